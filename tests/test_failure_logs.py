"""During an outage every request fails alike: the integrations log each kind of failed
load or save once per interval, with how many were left out, not one line per request."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import flask
import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from websession import SessionConfig, SessionMiddleware
from websession.errors import StoreError
from websession.integrations import failures
from websession.integrations.flask import init_app
from websession.stores import MemoryStore, open_async_store
from websession.testing import FakeClock
from websession.throttling import ThrottledLog

CONFIG = SessionConfig(secret="l" * 32, secure=False)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeClock]:
    fake = FakeClock()
    monkeypatch.setattr(failures.FAILURES, "clock", fake)
    failures.FAILURES.reset()
    yield fake
    failures.FAILURES.reset()


class Down:
    """A real store whose ``failing`` operations fail as a dead server's do."""

    def __init__(self, inner: Any, failing: str) -> None:
        self.inner = inner
        self.failing = failing

    def __getattr__(self, name: str) -> Any:
        if name != self.failing:
            return getattr(self.inner, name)

        def fail(*args: Any, **kwargs: Any) -> Any:
            raise StoreError("store down") from ConnectionError("connection refused")

        async def fail_async(*args: Any, **kwargs: Any) -> Any:
            fail()

        return fail_async if self.asynchronous else fail

    @property
    def asynchronous(self) -> bool:
        return not isinstance(self.inner, MemoryStore)


def failure_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "websession" and r.levelno == logging.ERROR and "failed" in r.getMessage()
    ]


async def _write(request: Request) -> Response:
    request.session["k"] = "v"
    return PlainTextResponse("ok")


async def _asgi_get(app: Any, n: int, cookie: str | None = None) -> list[int]:
    headers = {"cookie": cookie} if cookie else {}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        return [(await client.get("/", headers=headers)).status_code for _ in range(n)]


async def test_asgi_an_outage_is_one_line_per_interval_with_a_count(
    clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    store = Down(open_async_store("memory://"), "create")
    app = SessionMiddleware(Starlette(routes=[Route("/", _write)]), store=store, config=CONFIG)
    with caplog.at_level(logging.ERROR, logger="websession"):
        assert await _asgi_get(app, 30) == [503] * 30
        lines = failure_lines(caplog)
        assert len(lines) == 1
        assert "save failed" in lines[0]
        assert "store down" in lines[0]
        assert "connection refused" in lines[0]
        clock.now += failures.FAILURE_LOG_INTERVAL
        assert await _asgi_get(app, 1) == [503]
    lines = failure_lines(caplog)
    assert len(lines) == 2
    assert "(29 more since the last line)" in lines[1]


async def test_asgi_another_kind_of_failure_is_logged_at_once(
    clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    store = Down(open_async_store("memory://"), "create")
    app = SessionMiddleware(Starlette(routes=[Route("/", _write)]), store=store, config=CONFIG)
    cookie = await _seeded_cookie()
    loads = Down(open_async_store("memory://"), "load")
    reads = SessionMiddleware(Starlette(routes=[Route("/", _write)]), store=loads, config=CONFIG)
    with caplog.at_level(logging.ERROR, logger="websession"):
        await _asgi_get(app, 5)
        await _asgi_get(reads, 5, cookie)
    lines = failure_lines(caplog)
    assert [line.split(":")[0] for line in lines] == [
        "websession save failed",
        "websession load failed",
    ]


async def _seeded_cookie() -> str:
    app = SessionMiddleware(
        Starlette(routes=[Route("/", _write)]), store="memory://", config=CONFIG
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.get("/")
    return response.headers["set-cookie"].split(";")[0]


def test_flask_an_outage_is_one_line_per_interval_with_a_count(
    clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    app = flask.Flask(__name__)

    @app.get("/")
    def write() -> str:
        flask.session["k"] = "v"
        return "ok"

    init_app(app, Down(MemoryStore(), "create"), CONFIG)
    client = app.test_client()
    with caplog.at_level(logging.ERROR, logger="websession"):
        assert [client.get("/").status_code for _ in range(20)] == [503] * 20
        assert len(failure_lines(caplog)) == 1
        clock.now += failures.FAILURE_LOG_INTERVAL
        client.get("/")
    lines = failure_lines(caplog)
    assert len(lines) == 2
    assert "(19 more since the last line)" in lines[1]


def test_throttled_log_counts_per_kind_and_stays_bounded(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = FakeClock()
    log = ThrottledLog(logging.getLogger("websession.test"), 10.0, clock, max_kinds=3)
    with caplog.at_level(logging.INFO, logger="websession.test"):
        assert log.once("a", logging.INFO, "a happened")
        assert not log.once("a", logging.INFO, "a happened")
        log.count("a")
        assert log.once("b", logging.INFO, "b happened")
        clock.now += 10
        assert log.once("a", logging.INFO, "a happened")
        for kind in "cdefg":  # more kinds than it keeps: the oldest are forgotten
            assert log.once(kind, logging.INFO, "%s happened", kind)
    messages = [r.getMessage() for r in caplog.records]
    assert messages[2] == "a happened (2 more since the last line)"
    assert len(log._last) <= 3
