"""A small Starlette app on SessionMiddleware and cookie-less clients, shared by the
server-store fault and scale tests."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from websession import SessionConfig, SessionMiddleware, SetCookie, get_session
from websession.integrations.asgi import ASGIApp
from websession.stores import open_async_store
from websession.stores.base import AsyncStore
from websession.testing import FakeClock

T = TypeVar("T")

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


def client_for(app: ASGIApp, clients: list[httpx.AsyncClient]) -> httpx.AsyncClient:
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


async def hit(request: Request) -> Response:
    """Set ``v`` when the query has one; answer the session's ``v``."""
    if "v" in request.query_params:
        request.session["v"] = request.query_params["v"]
    return PlainTextResponse(str(request.session.get("v")))


async def request_costs(
    url: str, take: Callable[[], T], between: Callable[[T, T], int | None]
) -> list[int]:
    """Store operations, counted by the server, of five requests through the middleware:
    no cookie, a read, a write, a read past the refresh threshold, a read.

    ``take`` reads the server's counters and ``between`` turns two readings into the
    operations in between, or None when other traffic spoiled them (then the request
    is sent again, at most three times).
    """
    clock = FakeClock()
    store = open_async_store(url)
    app = SessionMiddleware(
        Starlette(routes=[Route("/", hit)]), store=store, config=CONFIG, clock=clock
    )
    clients: list[httpx.AsyncClient] = []
    client = client_for(app, clients)
    try:
        headers = with_cookie(cookie_of(await client.get("/", params={"v": "1"})))
        await client.get("/", params={"v": "warm"}, headers=headers)

        async def measure(advance: float = 0, **kwargs: Any) -> int:
            for _ in range(3):
                clock.advance(advance)
                before = take()
                response = await client.get("/", **kwargs)
                assert response.status_code == 200
                count = between(before, take())
                if count is not None:
                    return count
            raise AssertionError("other traffic kept changing the counters")

        return [
            await measure(),
            await measure(headers=headers),
            await measure(params={"v": "2"}, headers=headers),
            await measure(20 * 60, headers=headers),
            await measure(headers=headers),
        ]
    finally:
        await client.aclose()
        await store.close()
