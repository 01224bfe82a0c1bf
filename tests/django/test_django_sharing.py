"""Sessions shared between the Django engine, websession's ASGI middleware (Starlette)
and the Flask integration: same store, secret and cookie name, values and logouts
seen on every side."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import flask
import httpx
import pytest
from django.test import Client, override_settings
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from tests.django.conftest import SECRET
from tests.django.helpers import sqlite_url
from websession import SessionConfig, SessionMiddleware, get_session
from websession.integrations.django.settings import shared_store
from websession.integrations.flask import init_app
from websession.stores import open_async_store
from websession.stores.base import AsyncStore

CONFIG = SessionConfig(secret=SECRET, cookie_name="sessionid", secure=False)


@pytest.fixture
def url(tmp_path: Path) -> Iterator[str]:
    url = sqlite_url(tmp_path)
    with override_settings(WEBSESSION_STORE=url):
        yield url
    shared_store(url).close()


class AsgiSide:
    """A Starlette app on websession's middleware, driven from sync tests."""

    def __init__(self, url: str) -> None:
        self.store: AsyncStore = open_async_store(url)

        async def write(request: Request) -> Response:
            request.session[request.query_params["key"]] = request.query_params["v"]
            return PlainTextResponse("ok")

        async def everything(request: Request) -> Response:
            return JSONResponse(dict(request.session))

        async def destroy(request: Request) -> Response:
            get_session(request).destroy()
            return PlainTextResponse("ok")

        app = Starlette(
            routes=[Route("/write", write), Route("/all", everything), Route("/destroy", destroy)]
        )
        self.app = SessionMiddleware(app, store=self.store, config=CONFIG)

    def get(self, path: str, cookie: str = "", **params: str) -> httpx.Response:
        async def run() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                headers = {"cookie": f"sessionid={cookie}"} if cookie else {}
                return await client.get(path, params=params, headers=headers)

        return asyncio.run(run())

    def close(self) -> None:
        asyncio.run(self.store.close())


@pytest.fixture
def asgi(url: str) -> Iterator[AsgiSide]:
    app = AsgiSide(url)
    yield app
    app.close()


def django_client(value: str = "") -> Client:
    client = Client()
    if value:
        client.cookies["sessionid"] = value
    return client


def test_django_writes_asgi_reads_and_back(asgi: AsgiSide) -> None:
    client = django_client()
    client.get("/write", {"v": "from-django"})
    value = client.cookies["sessionid"].value
    assert asgi.get("/all", value).json() == {"value": "from-django"}
    asgi.get("/write", value, key="other", v="from-asgi")
    assert client.get("/read").json() == {"value": "from-django", "other": "from-asgi"}


def test_asgi_session_is_read_by_django(asgi: AsgiSide) -> None:
    response = asgi.get("/write", key="value", v="asgi")
    value = httpx.Cookies(response.cookies)["sessionid"]
    assert django_client(value).get("/read").json() == {"value": "asgi"}


def test_asgi_logout_is_a_django_logout(asgi: AsgiSide) -> None:
    client = django_client()
    client.get("/write")
    value = client.cookies["sessionid"].value
    asgi.get("/destroy", value)
    assert client.get("/read").json() == {}


def test_django_logout_is_an_asgi_logout(asgi: AsgiSide) -> None:
    client = django_client()
    client.get("/write")
    value = client.cookies["sessionid"].value
    client.get("/logout")
    assert asgi.get("/all", value).json() == {}


def test_flask_reads_django_and_django_reads_flask(url: str) -> None:
    app = flask.Flask(__name__)
    interface = init_app(app, store=url, config=CONFIG)

    @app.get("/all")
    def everything() -> flask.Response:
        return flask.jsonify(dict(flask.session))

    @app.get("/write")
    def write() -> str:
        flask.session["flask"] = "yes"
        return "ok"

    try:
        client = django_client()
        client.get("/write", {"v": "django"})
        value = client.cookies["sessionid"].value
        web = app.test_client()
        web.set_cookie("sessionid", value)
        assert web.get("/all").json == {"value": "django"}
        web.get("/write")
        assert client.get("/read").json() == {"value": "django", "flask": "yes"}
    finally:
        interface.backend.close()
