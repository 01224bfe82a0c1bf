"""Cross-site WebSocket hijacking: a handshake gets its session only from the app's
own or a trusted origin (SessionMiddleware and CSRFMiddleware), configurable by path."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any, cast

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

from tests.spy import SpyStore
from websession import ConfigError, SessionConfig, SessionMiddleware, SetCookie, open_async_store
from websession.integrations.csrf import CSRFMiddleware
from websession.stores.base import AsyncStore

CONFIG = SessionConfig(secret="w" * 32, secure=False)
OWN = "http://testserver"


async def login(request: Request) -> Response:
    request.session["value"] = "secret data"
    return PlainTextResponse("ok")


async def socket(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_json({"value": websocket.session.get("value")})
    await websocket.close()


def build_app(
    store: AsyncStore, *, csrf: dict[str, Any] | None = None, **options: Any
) -> Starlette:
    app = Starlette(
        routes=[
            Route("/login", login),
            WebSocketRoute("/ws", socket),
            WebSocketRoute("/api/ws", socket),
        ]
    )
    if csrf is not None:
        app.add_middleware(CSRFMiddleware, **csrf)
    app.add_middleware(SessionMiddleware, store=store, config=CONFIG, **options)
    return app


@pytest.fixture
async def spy() -> AsyncIterator[SpyStore]:
    store = open_async_store("memory://")
    yield SpyStore(store)
    await store.close()


async def signed_in(app: Starlette, spy: SpyStore) -> str:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=OWN) as client:
        response = await client.get("/login")
    spy.reset()
    return SetCookie.parse(response.headers["set-cookie"]).value


async def handshake(
    app: Starlette, cookie: str, origin: str | None, path: str = "/ws"
) -> list[Mapping[str, Any]]:
    incoming: list[dict[str, Any]] = [
        {"type": "websocket.connect"},
        {"type": "websocket.disconnect", "code": 1000},
    ]
    sent: list[Mapping[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return incoming.pop(0)

    async def send(message: Mapping[str, Any]) -> None:
        sent.append(message)

    headers = [(b"host", b"testserver"), (b"cookie", f"session={cookie}".encode())]
    if origin is not None:
        headers.append((b"origin", origin.encode()))
    scope = {
        "type": "websocket",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": headers,
        "scheme": "ws",
        "server": ("testserver", 80),
        "client": ("127.0.0.1", 1234),
        "subprotocols": [],
    }
    await app(scope, receive, send)
    return sent


def served(sent: list[Mapping[str, Any]]) -> str:
    assert sent[0]["type"] == "websocket.accept"
    return cast(str, sent[1]["text"])


async def test_own_origin_gets_the_session(spy: SpyStore) -> None:
    app = build_app(cast(AsyncStore, spy))
    cookie = await signed_in(app, spy)
    assert served(await handshake(app, cookie, OWN)) == '{"value":"secret data"}'


@pytest.mark.parametrize(
    "origin",
    ["https://evil.example", None, "null", "http://testserver.evil.example", "https://testserver"],
)
async def test_a_foreign_or_missing_origin_gets_an_empty_session_without_store_io(
    spy: SpyStore, origin: str | None
) -> None:
    app = build_app(cast(AsyncStore, spy))
    cookie = await signed_in(app, spy)
    assert served(await handshake(app, cookie, origin)) == '{"value":null}'
    assert spy.ops() == []


async def test_a_trusted_origin_gets_the_session(spy: SpyStore) -> None:
    app = build_app(cast(AsyncStore, spy), trusted_origins=["https://app.example"])
    cookie = await signed_in(app, spy)
    assert served(await handshake(app, cookie, "https://app.example")) == '{"value":"secret data"}'


async def test_a_foreign_origin_can_be_closed_with_policy_violation(spy: SpyStore) -> None:
    app = build_app(cast(AsyncStore, spy), websocket_on_foreign_origin="close")
    cookie = await signed_in(app, spy)
    sent = await handshake(app, cookie, "https://evil.example")
    assert sent == [{"type": "websocket.close", "code": 1008}]
    assert spy.ops() == []


async def test_the_action_is_chosen_by_path(spy: SpyStore) -> None:
    app = build_app(
        cast(AsyncStore, spy), websocket_on_foreign_origin={"/api": "allow", "/": "close"}
    )
    cookie = await signed_in(app, spy)
    assert served(await handshake(app, cookie, None, "/api/ws")) == '{"value":"secret data"}'
    assert (await handshake(app, cookie, None, "/ws"))[0]["code"] == 1008


def test_an_unknown_action_is_a_config_error(spy: SpyStore) -> None:
    with pytest.raises(ConfigError, match="anonymous"):
        SessionMiddleware(
            Starlette(),
            store=cast(AsyncStore, spy),
            config=CONFIG,
            websocket_on_foreign_origin="deny",  # type: ignore[arg-type]  # the mistake tested
        )


async def test_csrf_middleware_checks_the_websocket_origin_too(spy: SpyStore) -> None:
    app = build_app(cast(AsyncStore, spy), websocket_on_foreign_origin="allow", csrf={})
    cookie = await signed_in(app, spy)
    assert served(await handshake(app, cookie, "https://evil.example")) == '{"value":null}'
    assert served(await handshake(app, cookie, OWN)) == '{"value":"secret data"}'


async def test_csrf_middleware_can_close_a_foreign_websocket(spy: SpyStore) -> None:
    app = build_app(
        cast(AsyncStore, spy),
        websocket_on_foreign_origin="allow",
        csrf={"websocket_on_foreign_origin": "close"},
    )
    cookie = await signed_in(app, spy)
    sent = await handshake(app, cookie, "https://evil.example")
    assert sent == [{"type": "websocket.close", "code": 1008}]
