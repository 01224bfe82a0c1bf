"""The pure ASGI middleware: I/O per request, headers, failures, concurrency."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

from tests.conftest import store_url
from tests.spy import SpyStore
from websession import (
    ConfigError,
    SessionConfig,
    SessionMiddleware,
    SetCookie,
    StoreError,
    get_session,
    open_async_store,
)
from websession.core.tokens import hash_token
from websession.stores.base import AsyncStore
from websession.testing import FakeClock

SECRET = "m" * 32
CONFIG = SessionConfig(
    secret=SECRET,
    secure=False,
    idle_timeout=timedelta(minutes=30),
    absolute_timeout=timedelta(hours=2),
)


async def read(request: Request) -> Response:
    return JSONResponse({"value": request.session.get("value")})


async def write(request: Request) -> Response:
    request.session[request.query_params.get("key", "value")] = request.query_params.get("v", "x")
    return PlainTextResponse("ok")


async def nothing(request: Request) -> Response:
    return PlainTextResponse("static")


async def regenerate(request: Request) -> Response:
    get_session(request).regenerate()
    return PlainTextResponse("ok")


async def destroy(request: Request) -> Response:
    get_session(request).destroy()
    return PlainTextResponse("ok")


async def bad_value(request: Request) -> Response:
    request.session["items"] = []
    request.session["items"].append(object())
    return PlainTextResponse("never sent")


async def all_keys(request: Request) -> Response:
    return JSONResponse(dict(request.session))


async def socket(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_json({"value": websocket.session.get("value")})
    await websocket.close()


def build_app(store: AsyncStore, clock: FakeClock | None = None, **options: Any) -> Starlette:
    app = Starlette(
        routes=[
            Route("/read", read),
            Route("/write", write, methods=["GET", "POST"]),
            Route("/static/file", nothing),
            Route("/regenerate", regenerate, methods=["POST"]),
            Route("/destroy", destroy, methods=["POST"]),
            Route("/bad", bad_value),
            Route("/all", all_keys),
            WebSocketRoute("/ws", socket),
        ]
    )
    app.add_middleware(
        SessionMiddleware,
        store=store,
        config=CONFIG,
        exclude_paths=["/static"],
        clock=clock or FakeClock(),
        **options,
    )
    return app


def client_for(app: Starlette) -> httpx.AsyncClient:
    """A client that keeps no cookie jar: each test sends the cookies it means to."""
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")

    async def forget_cookies(response: httpx.Response) -> None:
        client.cookies.clear()

    client.event_hooks["response"] = [forget_cookies]
    return client


def with_cookie(value: str) -> dict[str, str]:
    """A Cookie header carrying the session cookie."""
    return {"cookie": f"session={value}"}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def spy(tmp_path: Path) -> AsyncIterator[SpyStore]:
    store = open_async_store(f"sqlite:///{tmp_path / 's.db'}")
    yield SpyStore(store)
    await store.close()


@pytest.fixture
def client(spy: SpyStore, clock: FakeClock) -> httpx.AsyncClient:
    return client_for(build_app(cast(AsyncStore, spy), clock))


def session_cookie(response: httpx.Response) -> SetCookie | None:
    headers = response.headers.get_list("set-cookie")
    return SetCookie.parse(headers[0]) if headers else None


async def logged_in(client: httpx.AsyncClient, spy: SpyStore) -> str:
    response = await client.get("/write", params={"v": "hello"})
    cookie = session_cookie(response)
    assert cookie is not None
    spy.reset()
    return cookie.value


# -- store operations per request ----------------------------------------------------


async def test_request_without_cookie_does_no_store_io(
    client: httpx.AsyncClient, spy: SpyStore
) -> None:
    response = await client.get("/read")
    assert response.json() == {"value": None}
    assert spy.ops() == []
    assert "set-cookie" not in response.headers


async def test_first_write_creates_once_and_sets_the_cookie(
    client: httpx.AsyncClient, spy: SpyStore
) -> None:
    response = await client.get("/write")
    assert spy.ops() == ["create"]
    cookie = session_cookie(response)
    assert cookie is not None
    assert cookie.http_only
    assert cookie.same_site == "lax"
    assert cookie.path == "/"
    assert response.headers["cache-control"] == "no-store"
    assert "Cookie" in response.headers["vary"]


async def test_read_request_does_one_read_and_no_write(
    client: httpx.AsyncClient, spy: SpyStore
) -> None:
    value = await logged_in(client, spy)
    response = await client.get("/read", headers=with_cookie(value))
    assert response.json() == {"value": "hello"}
    assert spy.ops() == ["load"]
    assert "set-cookie" not in response.headers
    assert response.headers["vary"] == "Cookie"


async def test_write_request_does_one_read_and_one_patch(
    client: httpx.AsyncClient, spy: SpyStore
) -> None:
    value = await logged_in(client, spy)
    await client.get("/write", params={"key": "other", "v": "y"}, headers=with_cookie(value))
    assert spy.ops() == ["load", "update"]
    update = spy.calls[1][1][1]
    assert dict(update.set) == {"other": "y"}


async def test_untouched_session_sends_no_vary(client: httpx.AsyncClient, spy: SpyStore) -> None:
    value = await logged_in(client, spy)
    response = await client.get("/write?key=z", headers=with_cookie(value))
    assert "vary" in response.headers
    response = await client.get("/static/file", headers=with_cookie(value))
    assert "vary" not in response.headers


async def test_excluded_paths_get_no_session_and_no_io(
    client: httpx.AsyncClient, spy: SpyStore
) -> None:
    value = await logged_in(client, spy)
    response = await client.get("/static/file", headers=with_cookie(value))
    assert response.text == "static"
    assert spy.ops() == []


async def test_refresh_writes_only_past_the_threshold(
    client: httpx.AsyncClient, spy: SpyStore, clock: FakeClock
) -> None:
    value = await logged_in(client, spy)
    clock.advance(timedelta(minutes=10))
    await client.get("/read", headers=with_cookie(value))
    assert spy.ops() == ["load"]
    clock.advance(timedelta(minutes=10))
    response = await client.get("/read", headers=with_cookie(value))
    assert spy.ops() == ["load", "load", "touch"]
    assert session_cookie(response) is not None


# -- bad cookies: fresh anonymous session, no 500, no write -------------------------


@pytest.mark.parametrize(
    "value",
    [
        "tampered",
        "A" * 43 + "." + "B" * 43,
        "../../../../etc/passwd",
        "' OR 1=1 --",
        "",
    ],
)
async def test_bad_cookies_get_a_fresh_session_without_io(
    client: httpx.AsyncClient, spy: SpyStore, value: str
) -> None:
    response = await client.get("/read", headers=with_cookie(value))
    assert response.status_code == 200
    assert response.json() == {"value": None}
    assert spy.ops() == []


async def test_tampered_signature_of_a_real_session_is_rejected(
    client: httpx.AsyncClient, spy: SpyStore
) -> None:
    value = await logged_in(client, spy)
    forged = value[:-2] + ("AA" if value[-2:] != "AA" else "BB")
    response = await client.get("/read", headers=with_cookie(forged))
    assert response.json() == {"value": None}
    assert spy.ops() == []


async def test_cookie_signed_with_a_foreign_secret_is_rejected(spy: SpyStore) -> None:
    foreign = build_app(cast(AsyncStore, spy))
    foreign.user_middleware.clear()
    other_config = CONFIG.replace(secret="f" * 32)
    foreign.add_middleware(SessionMiddleware, store=cast(AsyncStore, spy), config=other_config)
    response = await client_for(foreign).get("/write", params={"v": "theirs"})
    cookie = session_cookie(response)
    assert cookie is not None
    spy.reset()
    ours = client_for(build_app(cast(AsyncStore, spy)))
    response = await ours.get("/read", headers=with_cookie(cookie.value))
    assert response.json() == {"value": None}
    assert spy.ops() == []


async def test_unknown_session_gets_a_fresh_one_and_no_write(
    client: httpx.AsyncClient, spy: SpyStore
) -> None:
    value = await logged_in(client, spy)
    await spy.inner.delete(hash_token(value.split(".")[0]))
    response = await client.get("/read", headers=with_cookie(value))
    assert response.json() == {"value": None}
    assert spy.ops() == ["load"]


async def test_expired_session_gets_a_fresh_one_and_no_write(
    client: httpx.AsyncClient, spy: SpyStore, clock: FakeClock
) -> None:
    value = await logged_in(client, spy)
    clock.advance(timedelta(minutes=31))
    response = await client.get("/read", headers=with_cookie(value))
    assert response.json() == {"value": None}
    assert spy.ops() == ["load"]


# -- regenerate and destroy ----------------------------------------------------------


async def test_regenerate_over_http(client: httpx.AsyncClient, spy: SpyStore) -> None:
    value = await logged_in(client, spy)
    response = await client.post("/regenerate", headers=with_cookie(value))
    assert spy.ops() == ["load", "replace"]
    new = session_cookie(response)
    assert new is not None
    assert new.value != value
    response = await client.get("/read", headers=with_cookie(new.value))
    assert response.json() == {"value": "hello"}
    response = await client.get("/read", headers=with_cookie(value))
    assert response.json() == {"value": None}


async def test_destroy_over_http(client: httpx.AsyncClient, spy: SpyStore) -> None:
    value = await logged_in(client, spy)
    response = await client.post("/destroy", headers=with_cookie(value))
    assert spy.ops() == ["load", "delete"]
    cookie = session_cookie(response)
    assert cookie is not None
    assert cookie.deletes
    response = await client.get("/read", headers=with_cookie(value))
    assert response.json() == {"value": None}


# -- failures ------------------------------------------------------------------------


class BrokenStore(SpyStore):
    """A real store whose chosen operations fail the way a dead server does."""

    def __init__(self, inner: AsyncStore, failing: set[str]) -> None:
        super().__init__(inner)
        self.failing = failing

    def __getattr__(self, name: str) -> Any:
        if name in self.failing:

            async def fail(*args: Any, **kwargs: Any) -> Any:
                raise StoreError("store down") from ConnectionError("connection refused")

            return fail
        return super().__getattr__(name)


@pytest.mark.parametrize("failing", ["load", "update"])
async def test_store_failure_answers_a_clean_503(
    spy: SpyStore, failing: str, caplog: pytest.LogCaptureFixture
) -> None:
    client = client_for(build_app(cast(AsyncStore, spy)))
    value = await logged_in(client, spy)
    broken = client_for(build_app(cast(AsyncStore, BrokenStore(spy.inner, {failing}))))
    with caplog.at_level(logging.ERROR, logger="websession"):
        response = await broken.get("/write?key=k", headers=with_cookie(value))
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    assert "set-cookie" not in response.headers
    assert "unavailable" in response.text
    assert any("store down" in r.getMessage() for r in caplog.records)
    assert value.split(".")[0] not in caplog.text


async def test_store_failure_answers_json_to_json_clients(spy: SpyStore) -> None:
    client = client_for(build_app(cast(AsyncStore, spy)))
    value = await logged_in(client, spy)
    broken = client_for(build_app(cast(AsyncStore, BrokenStore(spy.inner, {"load"}))))
    response = await broken.get(
        "/read", headers={"accept": "application/json", **with_cookie(value)}
    )
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "store_error"


async def test_closed_sqlite_store_answers_503(tmp_path: Path) -> None:
    store = open_async_store(f"sqlite:///{tmp_path / 'x.db'}")
    client = client_for(build_app(store))
    response = await client.get("/write")
    cookie = session_cookie(response)
    assert cookie is not None
    await store.close()
    response = await client.get("/read", headers=with_cookie(cookie.value))
    assert response.status_code == 503


async def test_non_json_value_answers_500_and_writes_nothing(
    client: httpx.AsyncClient, spy: SpyStore
) -> None:
    response = await client.get("/bad")
    assert response.status_code == 500
    assert "never sent" not in response.text
    assert spy.ops() == []


# -- concurrency, logs, other scopes -------------------------------------------------


async def test_concurrent_requests_each_setting_a_key_all_survive(
    store_kind: str, tmp_path: Path
) -> None:
    store = open_async_store(store_url(store_kind, tmp_path))
    try:
        client = client_for(build_app(store))
        first = session_cookie(await client.get("/write", params={"key": "seed"}))
        assert first is not None
        headers = with_cookie(first.value)
        responses = await asyncio.gather(
            *(
                client.get("/write", params={"key": f"k{i}", "v": str(i)}, headers=headers)
                for i in range(100)
            )
        )
        assert all(r.status_code == 200 for r in responses)
        data = (await client.get("/all", headers=headers)).json()
        assert {f"k{i}": str(i) for i in range(100)}.items() <= data.items()
    finally:
        await store.close()


async def test_tokens_never_reach_the_store_or_the_logs(
    client: httpx.AsyncClient, spy: SpyStore, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        value = await logged_in(client, spy)
        await client.get("/write?key=b", headers=with_cookie(value))
        response = await client.post("/regenerate", headers=with_cookie(value))
    new = session_cookie(response)
    assert new is not None
    tokens = [value.split(".")[0], new.value.split(".")[0]]
    seen = repr(spy.calls) + caplog.text
    for token in tokens:
        assert token not in seen


async def test_websocket_sees_the_session(client: httpx.AsyncClient, spy: SpyStore) -> None:
    value = await logged_in(client, spy)
    app = build_app(cast(AsyncStore, spy))
    incoming: list[dict[str, Any]] = [
        {"type": "websocket.connect"},
        {"type": "websocket.disconnect", "code": 1000},
    ]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return incoming.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "websocket",
        "path": "/ws",
        "raw_path": b"/ws",
        "query_string": b"",
        "headers": [
            (b"host", b"testserver"),
            (b"origin", b"http://testserver"),  # a foreign one gets no session
            (b"cookie", f"session={value}".encode()),
        ],
        "scheme": "ws",
        "server": ("testserver", 80),
        "client": ("127.0.0.1", 1234),
        "subprotocols": [],
    }
    await app(scope, receive, send)  # type: ignore[arg-type]
    assert sent[0]["type"] == "websocket.accept"
    assert sent[1]["text"] == '{"value":"hello"}'
    assert spy.ops() == ["load"]


async def test_get_session_without_middleware_says_what_to_do() -> None:
    with pytest.raises(RuntimeError, match="SessionMiddleware"):
        get_session({"type": "http"})


async def test_lifespan_passes_through(spy: SpyStore) -> None:
    app = build_app(cast(AsyncStore, spy))
    messages: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "lifespan.startup"} if not messages else {"type": "lifespan.shutdown"}

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)

    await app({"type": "lifespan"}, receive, send)  # type: ignore[arg-type]
    assert messages[0]["type"] == "lifespan.startup.complete"


# -- a drop-in for Starlette's SessionMiddleware ----------------------------------------------


async def test_starlette_arguments_configure_the_cookie(spy: SpyStore) -> None:
    app = Starlette(routes=[Route("/write", write)])
    app.add_middleware(
        SessionMiddleware,
        store=spy,
        secret_key=SECRET,
        session_cookie="sid",
        path="/",
        max_age=600,
        same_site="strict",
        https_only=True,
        domain=".example.com",
    )
    async with client_for(app) as client:
        response = await client.get("/write")
    cookie = SetCookie.parse(response.headers["set-cookie"])
    assert cookie.name == "sid"
    assert cookie.max_age == 600
    assert cookie.same_site == "strict"
    assert cookie.secure
    assert cookie.http_only
    assert cookie.domain == "example.com"


async def test_the_session_serializes_in_a_json_response(spy: SpyStore) -> None:
    async def dump(request: Request) -> Response:
        request.session["cart"] = [1, 2]
        return JSONResponse(
            {"session": request.session, "is_dict": isinstance(request.session, dict)}
        )

    app = Starlette(routes=[Route("/dump", dump)])
    app.add_middleware(SessionMiddleware, store=spy, config=CONFIG)
    async with client_for(app) as client:
        response = await client.get("/dump")
    assert response.json() == {"session": {"cart": [1, 2]}, "is_dict": True}


def test_a_secret_given_where_the_store_goes_is_refused_without_echoing_it() -> None:
    secret = "a-starlette-secret-given-positionally-0123"
    with pytest.raises(ConfigError, match="secret_key=") as caught:
        SessionMiddleware(Starlette(), secret)
    assert secret not in str(caught.value)


def test_starlette_arguments_and_a_config_are_not_mixed() -> None:
    with pytest.raises(ConfigError, match="not both"):
        SessionMiddleware(Starlette(), "memory://", CONFIG, secret_key=SECRET)


def test_starlette_arguments_need_the_secret_key() -> None:
    with pytest.raises(ConfigError, match="secret_key is required"):
        SessionMiddleware(Starlette(), "memory://", https_only=True)


def test_a_short_starlette_secret_gets_the_clear_error() -> None:
    with pytest.raises(ConfigError, match="at least 32 bytes"):
        SessionMiddleware(Starlette(), "memory://", secret_key="example")


def test_no_config_no_arguments_and_no_environment_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("WEBSESSION_SECRET", raising=False)
    monkeypatch.delenv("WEBSESSION_PRESET", raising=False)
    with pytest.raises(ConfigError, match="WEBSESSION_SECRET is not set"):
        SessionMiddleware(Starlette(), "memory://")
