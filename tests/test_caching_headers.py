"""Caching headers: any read of the session varies the response by cookie, and
responses of a session bound to a user are not stored by caches (ASGI and Flask)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import flask
import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from websession import SessionConfig, SessionMiddleware, SetCookie, get_session
from websession.core.session import CSRF_KEY, Session
from websession.integrations.flask import get_session as get_flask_session
from websession.integrations.flask import init_app
from websession.integrations.headers import has_vary_field
from websession.stores.memory import MemoryStore, open_async_memory

CONFIG = SessionConfig(secret="c" * 32, secure=False)

READS: dict[str, Callable[[Session], object]] = {
    "user_id": lambda s: s.user_id,
    "get-missing": lambda s: s.get("absent"),
    "is_new": lambda s: s.is_new,
    "internal": lambda s: s.get_internal(CSRF_KEY),
    "len": len,
    "iteration": list,
    "contains": lambda s: "absent" in s,
    "permanent": lambda s: s.permanent,
    "created_at": lambda s: s.created_at,
}


def varies_by_cookie(headers: httpx.Headers) -> bool:
    return has_vary_field(headers.get_list("vary"), "cookie")


# -- ASGI --------------------------------------------------------------------------


def asgi_client() -> httpx.AsyncClient:
    async def login(request: Request) -> Response:
        session = get_session(request)
        session["name"] = "alice"
        if request.query_params.get("user"):
            session.user_id = "u1"
        return PlainTextResponse("ok")

    async def read(request: Request) -> Response:
        READS[request.path_params["kind"]](get_session(request))
        response = PlainTextResponse("personal")
        if request.query_params.get("vary"):
            response.headers["vary"] = request.query_params["vary"]
        if request.query_params.get("cache"):
            response.headers["cache-control"] = request.query_params["cache"]
        return response

    async def untouched(request: Request) -> Response:
        return PlainTextResponse("same for all")

    app = Starlette(
        routes=[
            Route("/login", login),
            Route("/read/{kind}", read),
            Route("/untouched", untouched),
        ]
    )
    app.add_middleware(SessionMiddleware, store=open_async_memory(), config=CONFIG)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


async def asgi_cookie(client: httpx.AsyncClient, *, user: bool) -> str:
    response = await client.get("/login", params={"user": "1" if user else ""})
    cookie = SetCookie.parse(response.headers["set-cookie"])
    client.cookies.clear()
    return f"session={cookie.value}"


@pytest.mark.parametrize("kind", list(READS))
async def test_any_read_of_the_session_varies_the_response_by_cookie(kind: str) -> None:
    async with asgi_client() as client:
        cookie = await asgi_cookie(client, user=False)
        response = await client.get(f"/read/{kind}", headers={"cookie": cookie})
        assert "set-cookie" not in response.headers
        assert varies_by_cookie(response.headers)


@pytest.mark.parametrize("kind", ["user_id", "is_new", "get-missing"])
async def test_a_read_without_a_cookie_varies_the_response_by_cookie(kind: str) -> None:
    async with asgi_client() as client:
        response = await client.get(f"/read/{kind}")
        assert varies_by_cookie(response.headers)


async def test_an_untouched_session_still_sends_no_vary() -> None:
    async with asgi_client() as client:
        cookie = await asgi_cookie(client, user=False)
        response = await client.get("/untouched", headers={"cookie": cookie})
        assert "vary" not in response.headers


async def test_a_vary_naming_a_cookie_like_field_still_gets_cookie() -> None:
    async with asgi_client() as client:
        cookie = await asgi_cookie(client, user=False)
        response = await client.get(
            "/read/user_id", params={"vary": "X-Cookie-Consent"}, headers={"cookie": cookie}
        )
        assert response.headers["vary"] == "X-Cookie-Consent, Cookie"


async def test_a_vary_already_naming_cookie_is_left_alone() -> None:
    async with asgi_client() as client:
        cookie = await asgi_cookie(client, user=False)
        response = await client.get(
            "/read/user_id", params={"vary": "Accept, cookie"}, headers={"cookie": cookie}
        )
        assert response.headers["vary"] == "Accept, cookie"


async def test_responses_of_a_signed_in_user_are_not_stored() -> None:
    async with asgi_client() as client:
        cookie = await asgi_cookie(client, user=True)
        response = await client.get("/untouched", headers={"cookie": cookie})
        assert response.headers["cache-control"] == "no-store"


async def test_the_apps_own_cache_control_wins_for_a_signed_in_user() -> None:
    async with asgi_client() as client:
        cookie = await asgi_cookie(client, user=True)
        response = await client.get(
            "/read/len", params={"cache": "private, max-age=60"}, headers={"cookie": cookie}
        )
        assert response.headers.get_list("cache-control") == ["private, max-age=60"]


async def test_anonymous_responses_keep_their_cacheability() -> None:
    async with asgi_client() as client:
        cookie = await asgi_cookie(client, user=False)
        response = await client.get("/untouched", headers={"cookie": cookie})
        assert "cache-control" not in response.headers


# -- Flask -------------------------------------------------------------------------


def flask_app() -> flask.Flask:
    app = flask.Flask(__name__)
    init_app(app, store=MemoryStore(), config=CONFIG)

    @app.get("/login")
    def login() -> str:
        session = get_flask_session()
        session["name"] = "alice"
        if flask.request.args.get("user"):
            session.user_id = "u1"
        return "ok"

    @app.get("/read/<kind>")
    def read(kind: str) -> Any:
        READS[kind](get_flask_session())
        response = flask.make_response("personal")
        if flask.request.args.get("vary"):
            response.headers["Vary"] = flask.request.args["vary"]
        if flask.request.args.get("cache"):
            response.headers["Cache-Control"] = flask.request.args["cache"]
        return response

    @app.get("/untouched")
    def untouched() -> str:
        return "same for all"

    return app


def flask_cookie(client: Any, *, user: bool) -> str:
    response = client.get("/login", query_string={"user": "1" if user else ""})
    cookie = SetCookie.parse(response.headers["Set-Cookie"])
    return f"session={cookie.value}"


@pytest.mark.parametrize("kind", list(READS))
def test_flask_any_read_of_the_session_varies_the_response_by_cookie(kind: str) -> None:
    client = flask_app().test_client(use_cookies=False)
    cookie = flask_cookie(client, user=False)
    response = client.get(f"/read/{kind}", headers={"Cookie": cookie})
    assert "Set-Cookie" not in response.headers
    assert has_vary_field(response.headers.getlist("Vary"), "cookie")


def test_flask_a_vary_naming_a_cookie_like_field_still_gets_cookie() -> None:
    client = flask_app().test_client(use_cookies=False)
    cookie = flask_cookie(client, user=False)
    response = client.get(
        "/read/len", query_string={"vary": "X-Cookie-Consent"}, headers={"Cookie": cookie}
    )
    assert has_vary_field(response.headers.getlist("Vary"), "cookie")


def test_flask_responses_of_a_signed_in_user_are_not_stored() -> None:
    client = flask_app().test_client(use_cookies=False)
    cookie = flask_cookie(client, user=True)
    response = client.get("/untouched", headers={"Cookie": cookie})
    assert response.headers["Cache-Control"] == "no-store"


def test_flask_the_apps_own_cache_control_wins_for_a_signed_in_user() -> None:
    client = flask_app().test_client(use_cookies=False)
    cookie = flask_cookie(client, user=True)
    response = client.get(
        "/read/len", query_string={"cache": "private, max-age=60"}, headers={"Cookie": cookie}
    )
    assert response.headers.getlist("Cache-Control") == ["private, max-age=60"]


def test_flask_anonymous_responses_keep_their_cacheability() -> None:
    client = flask_app().test_client(use_cookies=False)
    cookie = flask_cookie(client, user=False)
    response = client.get("/untouched", headers={"Cookie": cookie})
    assert "Cache-Control" not in response.headers
