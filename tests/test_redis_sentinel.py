"""Redis Sentinel (``redis+sentinel://``): the primary is found through the sentinels and
requests follow a failover without an app restart.

``make test`` starts a primary, one replica and three sentinels (quorum 2, a server is
down after one second of silence: scripts/servers.py). The failover test kills the
primary with SIGKILL mid-run, and once a replica is promoted starts it again as a
replica of the new primary, so the group is whole for the next test.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import redis
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from tests.conftest import store_url
from websession import ConfigError, SessionConfig, SessionMiddleware, open_async_store
from websession.stores.redis import parse_url

CONFIG = SessionConfig(secret="f" * 32, secure=False)
BOUND = 60.0  # seconds: the whole failover test, at most


def test_sentinel_urls_parse() -> None:
    options = parse_url("redis+sentinel://a:26380,b/mymaster/2?wait=1&prefix=p")
    assert options.hosts == (("a", 26380), ("b", 26379))
    assert (options.sentinel, options.db, options.wait, options.prefix) == ("mymaster", 2, 1, "p")
    assert parse_url("redis+sentinel://a/mymaster").db == 0
    with pytest.raises(ConfigError, match="service"):
        parse_url("redis+sentinel://a:26379")
    with pytest.raises(ConfigError, match="wait"):
        parse_url("redis+cluster://a:7000?wait=1")
    with pytest.raises(ConfigError, match="one host"):
        parse_url("redis://a,b/0")


# -- the group, seen from the sentinels ------------------------------------------------------


class Group:
    """The sentinels of the test URL, asked directly with redis-py."""

    def __init__(self, url: str) -> None:
        options = parse_url(url)
        assert options.sentinel is not None
        self.service = options.sentinel
        self.sentinels = [redis.Redis(h, p, decode_responses=True) for h, p in options.hosts]

    def primary(self) -> tuple[str, int] | None:
        """The primary every sentinel names, if they agree and it is not down."""
        seen = set()
        for sentinel in self.sentinels:
            state = sentinel.sentinel_master(self.service)
            assert isinstance(state, dict)
            if "s_down" in state["flags"] or "o_down" in state["flags"]:
                return None
            seen.add((state["ip"], int(state["port"])))
        return seen.pop() if len(seen) == 1 else None

    def whole(self) -> bool:
        """True when every sentinel sees a live primary and a live replica, and the
        primary has the replica online."""
        primary = self.primary()
        if primary is None:
            return False
        for sentinel in self.sentinels:
            replicas = sentinel.sentinel_slaves(self.service)
            if len(replicas) != 1 or replicas[0]["flags"] != "slave":
                return False
        server = redis.Redis(*primary, decode_responses=True)
        try:
            replication = server.info("replication")
        finally:
            server.close()
        online = replication.get("slave0", {})
        return isinstance(online, dict) and online.get("state") == "online"

    def wait(self, condition: str, timeout: float = 30.0) -> float:
        """Wait until ``condition`` (a method name) holds; the time it took."""
        start = time.monotonic()
        while not getattr(self, condition)():
            assert time.monotonic() - start < timeout, f"the Sentinel group is not {condition}"
            time.sleep(0.05)
        return time.monotonic() - start

    def close(self) -> None:
        for sentinel in self.sentinels:
            sentinel.close()


@pytest.fixture
def group() -> Iterator[Group]:
    from tests.conftest import server_url

    found = Group(server_url("redis-sentinel"))
    try:
        found.wait("whole")
        yield found
    finally:
        found.close()


def kill(address: tuple[str, int]) -> list[str]:
    """SIGKILL the Redis server at ``address``; the command that starts it again."""
    server = redis.Redis(*address, decode_responses=True)
    info = server.info("server")
    server.close()
    os.kill(int(info["process_id"]), signal.SIGKILL)
    return ["redis-server", str(info["config_file"])]


# -- requests across a failover ---------------------------------------------------------------

Get = Callable[[str, dict[str, str]], Awaitable[tuple[int, str, str | None]]]
"""A request: (path, extra headers) -> (status, body, session cookie set)."""


async def write(request: Request) -> Response:
    request.session["value"] = request.query_params["v"]
    return PlainTextResponse("ok")


async def read(request: Request) -> Response:
    return PlainTextResponse(str(request.session.get("value")))


@asynccontextmanager
async def asgi_app(url: str) -> AsyncIterator[Get]:
    """The ASGI middleware on the async store."""
    store = open_async_store(url)
    app = SessionMiddleware(
        Starlette(routes=[Route("/write", write), Route("/read", read)]), store=store, config=CONFIG
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:

        async def get(path: str, headers: dict[str, str]) -> tuple[int, str, str | None]:
            response = await client.get(path, headers=headers)
            client.cookies.clear()
            return response.status_code, response.text, response.cookies.get(CONFIG.cookie_name)

        yield get
    await store.close()


@asynccontextmanager
async def flask_app(url: str) -> AsyncIterator[Get]:
    """The Flask integration on the sync store (redis-py's Sentinel client)."""
    import flask

    from websession.integrations.flask import init_app

    app = flask.Flask(__name__)

    @app.get("/write")
    def write() -> str:
        flask.session["value"] = flask.request.args["v"]
        return "ok"

    @app.get("/read")
    def read() -> str:
        return str(flask.session.get("value"))

    interface = init_app(app, url, CONFIG)
    client = app.test_client(use_cookies=False)

    async def get(path: str, headers: dict[str, str]) -> tuple[int, str, str | None]:
        response = client.get(path, headers=headers)
        cookie = None
        for header in response.headers.getlist("Set-Cookie"):
            name, _, rest = header.partition("=")
            if name == CONFIG.cookie_name:
                cookie = rest.split(";")[0]
        return response.status_code, response.get_data(as_text=True), cookie

    yield get
    interface.backend.close()


@dataclass
class Traffic:
    """Requests sent in a row: each one creates a session, or reads one back."""

    get: Get
    log: list[tuple[float, str, int]] = field(default_factory=list)
    """(time, "write" or "read", status) of every request."""
    acknowledged: dict[str, str] = field(default_factory=dict)
    """cookie value -> the value its session holds, for every write answered 200."""
    n: int = 0

    async def step(self) -> None:
        self.n += 1
        value = f"v{self.n}"
        status, _, cookie = await self.get(f"/write?v={value}", {})
        self.log.append((time.monotonic(), "write", status))
        if status == 200:
            assert cookie is not None
            self.acknowledged[cookie] = value
        if self.acknowledged:
            status, _, _ = await self.get("/read", self.cookie(next(reversed(self.acknowledged))))
            self.log.append((time.monotonic(), "read", status))
        await asyncio.sleep(0.01)

    def cookie(self, value: str) -> dict[str, str]:
        return {"cookie": f"{CONFIG.cookie_name}={value}"}

    def first_success(self, kind: str, after: float) -> float:
        return min(at for at, k, status in self.log if k == kind and at > after and status == 200)

    def statuses(self, kind: str, after: float, before: float = float("inf")) -> set[int]:
        return {status for at, k, status in self.log if k == kind and after <= at < before}


@pytest.mark.parametrize("make_app", [asgi_app, flask_app], ids=["asgi", "flask"])
async def test_requests_follow_a_failover_and_lose_no_acknowledged_session(
    group: Group, tmp_path: Path, make_app: Callable[[str], AbstractAsyncContextManager[Get]]
) -> None:
    url = store_url("redis-sentinel", tmp_path) + "&wait=1&timeout=1"
    started = time.monotonic()
    async with make_app(url) as get:
        traffic = Traffic(get)
        for _ in range(20):
            await traffic.step()
        old = group.primary()
        assert old is not None
        restart = kill(old)
        killed = time.monotonic()
        while (new := group.primary()) in (None, old):  # the failover window
            await traffic.step()
            assert time.monotonic() - started < BOUND
        promoted = time.monotonic()
        for _ in range(5):  # reads are served by the new primary; writes wait for a replica
            await traffic.step()
        assert new is not None
        rejoin = ["--replicaof", new[0], str(new[1])]  # as its supervisor would restart it
        subprocess.run([*restart, *rejoin], check=True, cwd=tmp_path)
        while not group.whole():
            await traffic.step()
            assert time.monotonic() - started < BOUND
        restored = time.monotonic()
        successes = 0
        while successes < 20:  # writes are acknowledged again, with no app restart
            await traffic.step()
            successes = successes + 1 if traffic.log[-2][2] == 200 else 0
            assert time.monotonic() - started < BOUND
        lost = {
            cookie: value
            for cookie, value in traffic.acknowledged.items()
            if (await get("/read", traffic.cookie(cookie)))[1] != value
        }
    print(
        f"\nfailover: {len(traffic.log)} requests; primary {old} -> {new}; "
        f"promoted after {promoted - killed:.2f}s, replica back after {restored - killed:.2f}s; "
        f"503s: {sum(1 for _, _, s in traffic.log if s == 503)}; "
        f"sessions acknowledged: {len(traffic.acknowledged)}, lost: {len(lost)}"
    )
    assert {status for _, _, status in traffic.log} <= {200, 503}
    assert traffic.statuses("write", 0, killed) == {200}
    assert traffic.statuses("read", 0, killed) == {200}
    reads_back = traffic.first_success("read", killed)
    assert reads_back - promoted < 3.0  # served by the new primary, no app restart
    assert traffic.statuses("read", reads_back) == {200}
    writes_back = traffic.first_success("write", killed)
    assert writes_back - restored < 3.0  # acknowledged again once a replica is back
    # a replica that is slow to acknowledge (a loaded machine) still fails a write
    late = [s for at, kind, s in traffic.log if kind == "write" and at > writes_back and s != 200]
    assert len(late) <= 2
    assert lost == {}
