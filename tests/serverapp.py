"""A small Starlette app on SessionMiddleware and cookie-less clients, shared by the
server-store fault and scale tests."""

from __future__ import annotations

from datetime import timedelta

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from websession import SessionConfig, SessionMiddleware, SetCookie, get_session
from websession.stores.base import AsyncStore

CONFIG = SessionConfig(
    secret="f" * 32,
    secure=False,
    idle_timeout=timedelta(minutes=30),
    absolute_timeout=timedelta(hours=2),
)


async def write(request: Request) -> Response:
    """Set ``key`` (default ``value``) to ``v`` (default ``x``)."""
    request.session[request.query_params.get("key", "value")] = request.query_params.get("v", "x")
    return PlainTextResponse("ok")


async def everything(request: Request) -> Response:
    """The whole session as JSON."""
    return JSONResponse(dict(request.session))


async def destroy(request: Request) -> Response:
    """Destroy the session."""
    get_session(request).destroy()
    return PlainTextResponse("ok")


def build_app(store: AsyncStore, *extra: Route) -> Starlette:
    """``/write``, ``/all``, ``/destroy`` and ``extra`` behind the session middleware."""
    routes = [Route("/write", write), Route("/all", everything), Route("/destroy", destroy)]
    app = Starlette(routes=[*routes, *extra])
    app.add_middleware(SessionMiddleware, store=store, config=CONFIG)
    return app


def client_for(app: Starlette, clients: list[httpx.AsyncClient]) -> httpx.AsyncClient:
    """A client that keeps no cookies: each request sends the ones it means to. It is
    added to ``clients`` for the caller to close."""
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")

    async def forget(response: httpx.Response) -> None:
        client.cookies.clear()

    client.event_hooks["response"] = [forget]
    clients.append(client)
    return client


def cookie_of(response: httpx.Response) -> str:
    """The session cookie value the response sets."""
    header = response.headers.get("set-cookie")
    assert header is not None
    return SetCookie.parse(header).value


def with_cookie(value: str) -> dict[str, str]:
    """Headers that send the session cookie ``value``."""
    return {"cookie": f"session={value}"}


def token_of(cookie_value: str) -> str:
    """The raw token inside a signed cookie value."""
    return cookie_value.split(".")[0]
