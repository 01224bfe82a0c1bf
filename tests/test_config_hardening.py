"""Bad configuration fails at construction: cookie attributes to what RFC 6265bis
allows; ``exclude_paths`` match whole path segments (ASGI and Flask)."""

from __future__ import annotations

import flask
import httpx
import pytest
from flask.sessions import NullSession
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from websession import ConfigError, SessionConfig, SessionMiddleware
from websession.integrations.flask import init_app
from websession.stores.memory import MemoryStore, open_async_memory

SECRET = "h" * 32


@pytest.mark.parametrize(
    "options",
    [
        {"cookie_path": "/café"},
        {"cookie_path": "/a\x7fb"},
        {"cookie_path": "/a\tb"},
        {"cookie_path": "/" + "a" * 1024},
        {"cookie_domain": "exämple.com"},
        {"cookie_domain": "example.com:8000"},
        {"cookie_domain": "exa mple.com"},
        {"cookie_domain": "example..com"},
        {"cookie_domain": "-example.com"},
        {"cookie_name": "sess\x01ion"},
        {"cookie_name": "séance"},
    ],
    ids=repr,
)
def test_a_cookie_attribute_rfc_6265bis_refuses_is_a_config_error(options: dict[str, str]) -> None:
    with pytest.raises(ConfigError):
        SessionConfig(secret=SECRET, secure=False, **options)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "options",
    [
        {"cookie_path": "/app/%C3%A9t%C3%A9"},
        {"cookie_path": "/a b,c"},
        {"cookie_domain": "xn--exmple-cua.com"},
        {"cookie_domain": ".example.com"},
        {"cookie_name": "my_session-1"},
    ],
    ids=repr,
)
def test_valid_cookie_attributes_pass(options: dict[str, str]) -> None:
    SessionConfig(secret=SECRET, secure=False, **options)  # type: ignore[arg-type]


PATHS = {"/static": False, "/static/app.js": False, "/statistics": True, "/staticx/a": True}


async def sets_a_cookie_asgi(path: str) -> bool:
    async def write(request: Request) -> Response:
        if "session" in request.scope:
            request.session["seen"] = True
        return PlainTextResponse("ok")

    app = Starlette(routes=[Route("/{rest:path}", write)])
    app.add_middleware(
        SessionMiddleware,
        store=open_async_memory(),
        config=SessionConfig(secret=SECRET, secure=False),
        exclude_paths=["/static"],
    )

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        return "set-cookie" in (await client.get(path)).headers


@pytest.mark.parametrize(("path", "has_session"), PATHS.items())
async def test_exclude_paths_match_whole_segments(path: str, has_session: bool) -> None:
    assert await sets_a_cookie_asgi(path) is has_session


@pytest.mark.parametrize(("path", "has_session"), PATHS.items())
def test_flask_exclude_paths_match_whole_segments(path: str, has_session: bool) -> None:
    app = flask.Flask(__name__, static_folder=None)
    init_app(
        app,
        store=MemoryStore(),
        config=SessionConfig(secret=SECRET, secure=False),
        exclude_paths=("/static",),
    )

    @app.get("/<path:rest>")
    def write(rest: str) -> str:
        if not isinstance(flask.session, NullSession):  # an excluded path has none
            flask.session["seen"] = True
        return "ok"

    response = app.test_client().get(path)
    assert response.status_code == 200
    assert ("Set-Cookie" in response.headers) is has_session
