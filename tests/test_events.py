"""Lifecycle events: what the store backend and the auth service emit, to sync and
async subscribers; never a token; nothing built when nobody listens."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from websession import SessionConfig, SessionMiddleware, get_session
from websession.auth import AsyncAuth, Auth, InvalidCredentials
from websession.backends._async.store import AsyncStoreBackend
from websession.backends.cookie._async.backend import CookieBackend
from websession.events import Event, EventName, Events
from websession.stores import open_async_store
from websession.testing import FakeClock

CONFIG = SessionConfig(
    secret="e" * 32,
    secure=False,
    idle_timeout=timedelta(minutes=30),
    absolute_timeout=timedelta(hours=2),
)
PASSWORD = "correct horse battery"


async def write(request: Request) -> Response:
    request.session["n"] = request.session.get("n", 0) + 1
    return PlainTextResponse("ok")


async def regenerate(request: Request) -> Response:
    get_session(request).regenerate()
    return PlainTextResponse("ok")


async def destroy(request: Request) -> Response:
    get_session(request).destroy()
    return PlainTextResponse("ok")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def app_events(
    tmp_path: Path, clock: FakeClock
) -> AsyncIterator[tuple[httpx.AsyncClient, list[Event], AsyncStoreBackend]]:
    events = Events()
    seen: list[Event] = []
    events.subscribe(seen.append)
    backend = AsyncStoreBackend(
        open_async_store(f"sqlite:///{tmp_path / 's.db'}"), CONFIG, clock=clock, events=events
    )
    app = Starlette(routes=[Route("/w", write), Route("/r", regenerate), Route("/d", destroy)])
    app.add_middleware(SessionMiddleware, store=backend)
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")
    yield client, seen, backend
    await client.aclose()
    await backend.close()


def names(seen: list[Event]) -> list[str]:
    return [e.name.value for e in seen]


async def test_the_session_lifecycle_is_emitted(
    app_events: tuple[httpx.AsyncClient, list[Event], AsyncStoreBackend],
) -> None:
    client, seen, _ = app_events
    await client.get("/w")
    await client.get("/w")
    await client.get("/r")
    await client.get("/d")
    assert names(seen) == ["session.created", "session.regenerated", "session.destroyed"]
    assert seen[1].previous == seen[0].session
    assert all(e.session is not None and len(e.session) == 12 for e in seen)


async def test_rejected_and_expired_cookies_are_emitted(
    app_events: tuple[httpx.AsyncClient, list[Event], AsyncStoreBackend], clock: FakeClock
) -> None:
    client, seen, _ = app_events
    await client.get("/w")
    cookie = client.cookies[CONFIG.cookie_name]
    client.cookies.clear()
    await client.get("/w", headers={"cookie": f"{CONFIG.cookie_name}={cookie[:-2]}xx"})
    assert (seen[-2].name, seen[-2].reason) == (EventName.COOKIE_REJECTED, "signature")
    assert seen[-1].name == EventName.CREATED  # the request then got a fresh session
    clock.advance(timedelta(hours=1))
    client.cookies.clear()
    await client.get("/w", headers={"cookie": f"{CONFIG.cookie_name}={cookie}"})
    assert EventName.EXPIRED in [e.name for e in seen]
    assert all(cookie not in repr(e) and cookie.split(".")[0] not in repr(e) for e in seen)


async def test_without_subscribers_no_event_is_built(
    app_events: tuple[httpx.AsyncClient, list[Event], AsyncStoreBackend],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client, _, backend = app_events
    backend.events = Events()

    def fail(*args: object) -> None:
        raise AssertionError("an event was built with no subscriber")

    for name in ("saved", "opened", "rejected_cookie"):
        monkeypatch.setattr(f"websession.backends._async.store.{name}", fail)
    for path in ("/w", "/w", "/r", "/d"):
        assert (await client.get(path)).status_code == 200


async def test_async_subscribers_and_a_failing_one(
    app_events: tuple[httpx.AsyncClient, list[Event], AsyncStoreBackend],
) -> None:
    client, _, backend = app_events
    assert backend.events is not None
    received: list[str] = []

    async def listen(event: Event) -> None:
        received.append(event.name)

    def broken(event: Event) -> None:
        raise RuntimeError("subscriber bug")

    backend.events.subscribe(listen, only=["session.created"])
    stop = backend.events.subscribe(broken)
    assert (await client.get("/w")).status_code == 200
    stop()
    assert received == ["session.created"]


async def test_auth_events(tmp_path: Path) -> None:
    events = Events()
    seen: list[Event] = []

    async def listen(event: Event) -> None:
        seen.append(event)

    events.subscribe(listen)
    auth = AsyncAuth(
        f"sqlite:///{tmp_path / 's.db'}", "memory://", session_config=CONFIG, events=events
    )
    user = await auth.register_user("alice", PASSWORD)
    with pytest.raises(InvalidCredentials):
        await auth.login_token("alice", "wrong password!", ip="198.51.100.7")
    first = await auth.login_token("alice", PASSWORD)
    second = await auth.login_token("alice", PASSWORD)
    device = (await auth.authenticate_session(first.token)).device
    await auth.revoke_device(user.id, device.id)
    await auth.logout(second.token)
    await auth.login_token("alice", PASSWORD)
    await auth.logout_user(user.id)
    await auth.close()
    assert names(seen) == [
        "auth.login_failed",
        "auth.login",
        "auth.login",
        "session.revoked",
        "auth.logout",
        "auth.login",
        "auth.logout_everywhere",
    ]
    assert seen[0].user_id == user.id
    assert seen[0].ip == "198.51.100.7"
    assert seen[-1].count == 1
    assert all(first.token not in repr(e) for e in seen)


def test_sync_auth_calls_plain_subscribers(tmp_path: Path) -> None:
    events = Events()
    seen: list[Event] = []
    events.subscribe(seen.append)
    auth = Auth(f"sqlite:///{tmp_path / 's.db'}", "memory://", session_config=CONFIG, events=events)
    auth.register_user("bob", PASSWORD)
    issued = auth.login_token("bob", PASSWORD)
    auth.logout(issued.token, everywhere=True)
    auth.close()
    assert names(seen) == ["auth.login", "auth.logout_everywhere"]


async def test_the_cookie_backend_reports_a_cookie_that_does_not_open() -> None:
    events = Events()
    seen: list[Event] = []
    events.subscribe(seen.append)
    backend = CookieBackend(CONFIG, events=events)
    await backend.open([f"{CONFIG.cookie_name}=forged"])
    await backend.open(["other=1"])
    assert [(e.name, e.reason) for e in seen] == [(EventName.COOKIE_REJECTED, "unopened")]
