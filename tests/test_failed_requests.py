"""A failed request (the view raises, or answers 500 or more) saves nothing and sends
no cookie, as Django does; ``SessionConfig.save_on_error`` turns that off."""

from __future__ import annotations

from typing import Any

import flask
import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from websession import SessionConfig, SessionMiddleware, SetCookie, get_session
from websession.integrations.flask import get_session as get_flask_session
from websession.integrations.flask import init_app
from websession.stores.memory import MemoryStore, open_async_memory

CONFIG = SessionConfig(secret="e" * 32, secure=False)
FAILURES = ["raises", "answers-500", "answers-503"]


def asgi_client(config: SessionConfig = CONFIG) -> httpx.AsyncClient:
    async def write(request: Request) -> Response:
        get_session(request)["value"] = request.query_params["v"]
        how = request.query_params.get("fail")
        if how == "raises":
            raise RuntimeError("the view failed half-way")
        if how == "answers-500":
            return PlainTextResponse("failed", status_code=500)
        if how == "answers-503":
            return PlainTextResponse("failed", status_code=503)
        return PlainTextResponse("ok")

    async def read(request: Request) -> Response:
        return JSONResponse({"value": get_session(request).get("value")})

    app = Starlette(routes=[Route("/write", write), Route("/read", read)])
    app.add_middleware(SessionMiddleware, store=open_async_memory(), config=config)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://t")


async def first_cookie(client: httpx.AsyncClient) -> str:
    response = await client.get("/write", params={"v": "before"})
    client.cookies.clear()
    return "session=" + SetCookie.parse(response.headers["set-cookie"]).value


@pytest.mark.parametrize("how", FAILURES)
async def test_a_failed_request_writes_no_session_changes(how: str) -> None:
    async with asgi_client() as client:
        cookie = await first_cookie(client)
        response = await client.get(
            "/write", params={"v": "after", "fail": how}, headers={"cookie": cookie}
        )
        assert response.status_code >= 500
        assert "set-cookie" not in response.headers
        after = await client.get("/read", headers={"cookie": cookie})
        assert after.json() == {"value": "before"}


@pytest.mark.parametrize("how", FAILURES)
async def test_a_failed_first_request_creates_no_session(how: str) -> None:
    async with asgi_client() as client:
        response = await client.get("/write", params={"v": "x", "fail": how})
        assert response.status_code >= 500
        assert "set-cookie" not in response.headers


async def test_save_on_error_saves_a_5xx_response() -> None:
    async with asgi_client(CONFIG.replace(save_on_error=True)) as client:
        cookie = await first_cookie(client)
        response = await client.get(
            "/write", params={"v": "after", "fail": "answers-503"}, headers={"cookie": cookie}
        )
        assert response.status_code == 503
        after = await client.get("/read", headers={"cookie": cookie})
        assert after.json() == {"value": "after"}


# -- Flask -------------------------------------------------------------------------


def flask_client(config: SessionConfig = CONFIG) -> Any:
    app = flask.Flask(__name__)
    init_app(app, store=MemoryStore(), config=config)

    @app.get("/write")
    def write() -> Any:
        get_flask_session()["value"] = flask.request.args["v"]
        how = flask.request.args.get("fail")
        if how == "raises":
            raise RuntimeError("the view failed half-way")
        if how == "answers-500":
            return "failed", 500
        if how == "answers-503":
            return "failed", 503
        return "ok"

    @app.get("/read")
    def read() -> Any:
        return {"value": get_flask_session().get("value")}

    return app.test_client(use_cookies=False)


def flask_first_cookie(client: Any) -> str:
    response = client.get("/write", query_string={"v": "before"})
    return "session=" + SetCookie.parse(response.headers["Set-Cookie"]).value


@pytest.mark.parametrize("how", FAILURES)
def test_flask_a_failed_request_writes_no_session_changes(how: str) -> None:
    client = flask_client()
    cookie = flask_first_cookie(client)
    response = client.get(
        "/write", query_string={"v": "after", "fail": how}, headers={"Cookie": cookie}
    )
    assert response.status_code >= 500
    assert "Set-Cookie" not in response.headers
    after = client.get("/read", headers={"Cookie": cookie})
    assert after.json == {"value": "before"}


@pytest.mark.parametrize("how", FAILURES)
def test_flask_a_failed_first_request_creates_no_session(how: str) -> None:
    response = flask_client().get("/write", query_string={"v": "x", "fail": how})
    assert response.status_code >= 500
    assert "Set-Cookie" not in response.headers


def test_flask_save_on_error_saves_a_5xx_response() -> None:
    client = flask_client(CONFIG.replace(save_on_error=True))
    cookie = flask_first_cookie(client)
    client.get(
        "/write", query_string={"v": "after", "fail": "answers-503"}, headers={"Cookie": cookie}
    )
    after = client.get("/read", headers={"Cookie": cookie})
    assert after.json == {"value": "after"}
