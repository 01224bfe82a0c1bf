"""Redis faults with real processes: a throwaway redis-server per test, started, stopped,
frozen and killed here; plus concurrency at scale on the shared test servers."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from scripts.servers import free_port
from tests.serverapp import CONFIG, build_app, client_for, cookie_of, token_of, with_cookie
from websession.core.engine import SessionEngine
from websession.core.tokens import hash_token, new_token
from websession.errors import StoreError, StoreTimeout, StoreUnavailable
from websession.stores import open_async_store, open_store
from websession.testing import make_record, new_key

CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def redis_server_binary() -> str:
    """The redis-server executable, or skip (fail under CI) without one."""
    found = shutil.which("redis-server")
    if found is None:
        message = "redis-server is not installed: `make test` installs it"
        if CI:
            pytest.fail(message)
        pytest.skip(message)
    return found


class RedisProcess:
    """One redis-server on a loopback port, durable (AOF, fsync always) so that data
    survives a kill and restart, with DEBUG enabled on Redis 7+."""

    def __init__(self, folder: Path) -> None:
        self.binary = redis_server_binary()
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        version = subprocess.run(
            [self.binary, "--version"], check=True, capture_output=True, text=True
        ).stdout
        match = re.search(r"v=(\d+)", version)
        self.debug = ["--enable-debug-command", "yes"] if match and int(match[1]) >= 7 else []

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "yes", "--appendfsync", "always",
             "--dir", str(self.folder), *self.debug],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if redis.Redis(port=self.port, socket_timeout=1).ping():
                    return
            except redis.ConnectionError:
                time.sleep(0.02)
        raise AssertionError(f"redis-server on port {self.port} did not start")

    def signal(self, number: signal.Signals) -> None:
        assert self.process is not None
        self.process.send_signal(number)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RedisProcess]:
    process = RedisProcess(tmp_path / "redis")
    yield process
    process.kill()


# -- server down, killed, back ---------------------------------------------------------


def test_store_made_while_redis_is_down_raises_only_on_use() -> None:
    port = free_port()  # nothing listens here
    for url in (f"redis://127.0.0.1:{port}/0", f"redis+cluster://127.0.0.1:{port}"):
        store = open_store(url)
        try:
            with pytest.raises(StoreUnavailable) as caught:
                store.load(new_key())
            assert isinstance(caught.value.__cause__, Exception)
        finally:
            store.close()


async def test_async_store_made_while_redis_is_down_raises_only_on_use() -> None:
    port = free_port()
    for url in (f"redis://127.0.0.1:{port}/0", f"redis+cluster://127.0.0.1:{port}"):
        store = open_async_store(url)
        try:
            with pytest.raises(StoreUnavailable):
                await store.load(new_key())
            with pytest.raises(StoreUnavailable):
                await store.create(new_key(), make_record({"a": 1}))
        finally:
            await store.close()


async def test_app_starts_while_redis_is_down_answers_503_then_recovers(
    server: RedisProcess, clients: list[httpx.AsyncClient], caplog: pytest.LogCaptureFixture
) -> None:
    store = open_async_store(server.url + "?connect_timeout=0.5&timeout=0.5")
    try:
        client = client_for(build_app(store), clients)
        token = new_token()
        cookie = SessionEngine(CONFIG).cookie_value(token)
        with caplog.at_level(logging.DEBUG):
            anonymous = await client.get("/all")
            down = await client.get("/all", headers=with_cookie(cookie))
            as_json = await client.get(
                "/all", headers={**with_cookie(cookie), "accept": "application/json"}
            )
        assert anonymous.status_code == 200  # no cookie: no store I/O, nothing to fail
        assert down.status_code == 503
        assert down.headers["retry-after"] == "1"
        assert as_json.json()["error"]["code"] == "store_unavailable"
        assert token not in caplog.text
        assert hash_token(token) not in caplog.text

        server.start()  # the same store object, no restart of the app
        back = await client.get("/write", params={"v": "1"}, headers=with_cookie(cookie))
        assert back.status_code == 200
        fresh = cookie_of(back)  # the unknown session was replaced by a fresh one
        assert (await client.get("/all", headers=with_cookie(fresh))).json() == {"value": "1"}
    finally:
        await store.close()


async def test_redis_killed_mid_request_answers_503_and_comes_back_intact(
    server: RedisProcess, clients: list[httpx.AsyncClient], caplog: pytest.LogCaptureFixture
) -> None:
    server.start()
    store = open_async_store(server.url)
    try:
        client = client_for(build_app(store), clients)
        cookie = cookie_of(await client.get("/write", params={"key": "seed", "v": "s"}))
        headers = with_cookie(cookie)

        server.signal(signal.SIGSTOP)  # requests now wait on a server that never answers
        with caplog.at_level(logging.DEBUG):
            in_flight = [
                asyncio.create_task(
                    client.get("/write", params={"key": f"k{i}", "v": "1"}, headers=headers)
                )
                for i in range(20)
            ]
            await asyncio.sleep(0.3)
            server.kill()  # SIGKILL while they wait
            responses = await asyncio.gather(*in_flight)
            after = await client.get("/all", headers=headers)
        assert [r.status_code for r in responses] == [503] * 20
        assert after.status_code == 503
        assert token_of(cookie) not in caplog.text

        server.start()  # same port, same data directory
        restored = await client.get("/all", headers=headers)
        assert restored.status_code == 200
        assert restored.json() == {"seed": "s"}  # nothing half-written, nothing lost
        again = await client.get("/write", params={"key": "later", "v": "2"}, headers=headers)
        assert again.status_code == 200
        assert (await client.get("/all", headers=headers)).json() == {"seed": "s", "later": "2"}
    finally:
        await store.close()


def test_sync_store_reconnects_after_a_restart(server: RedisProcess) -> None:
    server.start()
    store = open_store(server.url)
    try:
        key = new_key()
        assert store.create(key, make_record({"a": 1})) is True
        server.kill()
        with pytest.raises(StoreUnavailable):
            store.load(key)
        server.start()
        loaded = store.load(key)  # the pooled connection died; the store reconnects
        assert loaded is not None
        assert loaded.data == {"a": 1}
    finally:
        store.close()


def sleep_server(port: int, seconds: float) -> threading.Thread:
    """Block the server with DEBUG SLEEP from another connection; return once it sleeps."""

    def run() -> None:
        with redis.Redis(port=port, socket_timeout=seconds + 5) as other:
            other.execute_command("DEBUG", "SLEEP", seconds)

    thread = threading.Thread(target=run)
    thread.start()
    no_retry = Retry(NoBackoff(), 0)
    deadline = time.monotonic() + seconds / 2
    with redis.Redis(port=port, socket_timeout=0.05, retry=no_retry) as probe:
        while time.monotonic() < deadline:  # a PING that times out: the server sleeps
            try:
                probe.ping()
            except redis.TimeoutError:
                return thread
            time.sleep(0.01)
    thread.join()
    raise AssertionError("DEBUG SLEEP did not start")


def test_command_over_its_timeout_is_a_store_timeout(server: RedisProcess) -> None:
    server.start()
    store = open_store(server.url + "?timeout=0.3")
    try:
        key = new_key()
        store.create(key, make_record({"a": 1}))
        sleeper = sleep_server(server.port, 1.0)
        with pytest.raises(StoreTimeout) as caught:
            store.load(key)
        sleeper.join()
        assert isinstance(caught.value.__cause__, redis.TimeoutError)
        assert key not in str(caught.value)
        loaded = store.load(key)  # the server is awake again: the same store works
        assert loaded is not None
    finally:
        store.close()


async def test_async_timeout_answers_503_with_the_timeout_code(
    server: RedisProcess, clients: list[httpx.AsyncClient], caplog: pytest.LogCaptureFixture
) -> None:
    server.start()
    store = open_async_store(server.url + "?timeout=0.3")
    try:
        client = client_for(build_app(store), clients)
        cookie = cookie_of(await client.get("/write", params={"v": "1"}))
        sleeper = sleep_server(server.port, 1.0)
        with caplog.at_level(logging.DEBUG):
            slow = await client.get(
                "/all", headers={**with_cookie(cookie), "accept": "application/json"}
            )
            with pytest.raises(StoreTimeout):
                await store.load(new_key())
        await asyncio.to_thread(sleeper.join)
        assert slow.status_code == 503
        assert slow.json()["error"]["code"] == "store_timeout"
        assert token_of(cookie) not in caplog.text
        assert (await client.get("/all", headers=with_cookie(cookie))).json() == {"value": "1"}
    finally:
        await store.close()


def test_store_errors_never_carry_the_key(server: RedisProcess) -> None:
    store = open_store(server.url + "?connect_timeout=0.5&timeout=0.5")
    key = new_key()
    try:
        for attempt in (
            lambda: store.load(key),
            lambda: store.create(key, make_record({"a": 1}, user_id="u")),
            lambda: store.delete(key),
        ):
            with pytest.raises(StoreError) as caught:
                attempt()
            texts = [str(caught.value), repr(caught.value), str(caught.value.__cause__)]
            assert not any(key in text for text in texts)
    finally:
        store.close()
