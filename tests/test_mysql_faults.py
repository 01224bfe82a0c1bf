"""MariaDB faults with real processes: a throwaway MariaDB server of this module's own,
started, killed (SIGKILL, as a crash) and restarted here, as
``tests/test_postgres_faults.py`` does for PostgreSQL."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pymysql
import pytest

from scripts.servers import Mariadb, free_port
from tests.serverapp import CONFIG, build_app, client_for, cookie_of, token_of, with_cookie
from websession.core.engine import SessionEngine
from websession.core.tokens import hash_token, new_token
from websession.errors import StoreError, StoreTimeout, StoreUnavailable
from websession.stores import open_async_store, open_store
from websession.stores.mysql import parse_url
from websession.testing import make_record, new_key

CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(scope="module")
def server() -> Iterator[Mariadb]:
    """One throwaway server for the module; each test finds it stopped and leaves it so."""
    if shutil.which("mariadbd") is None and not Path("/usr/sbin/mariadbd").exists():
        message = "MariaDB binaries are missing: `make test` installs them"
        if CI:
            pytest.fail(message)
        pytest.skip(message)
    folder = Path(tempfile.mkdtemp(prefix="websession-mariadb-faults-"))
    process = Mariadb(folder / "mariadb", free_port())
    yield process
    process.stop(kill=True)
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def stopped(server: Mariadb) -> Iterator[Mariadb]:
    server.stop(kill=True)
    yield server
    server.stop(kill=True)


def table_url(server: Mariadb, **options: str) -> str:
    query = "&".join(f"{k}={v}" for k, v in {"table": f"t{new_key()[:12]}", **options}.items())
    return f"{server.url}?{query}"


async def until_ok(client: httpx.AsyncClient, path: str, **kwargs: Any) -> httpx.Response:
    """The first 200 within 20 seconds."""
    deadline = time.monotonic() + 20
    while True:
        response = await client.get(path, **kwargs)
        if response.status_code == 200 or time.monotonic() > deadline:
            return response
        assert response.status_code == 503
        await asyncio.sleep(0.1)


def hold_table_lock(url: str, table: str, held: threading.Event, release: threading.Event) -> None:
    """Hold a write lock on ``table`` until ``release``: statements on it wait."""
    options = parse_url(url)
    try:
        conn = pymysql.connect(
            host=options.host, port=options.port, user=options.user, database=options.database
        )
        try:
            with conn.cursor() as cursor:
                cursor.execute(f"LOCK TABLES `{table}` WRITE")
                held.set()
                release.wait(30)
        finally:
            conn.close()
    except pymysql.err.Error:
        pass  # the server went away under us: that is the test
    finally:
        held.set()


def test_store_made_while_mariadb_is_down_raises_only_on_use() -> None:
    store = open_store(f"mysql://root@127.0.0.1:{free_port()}/none?timeout=0.5")
    try:
        with pytest.raises(StoreUnavailable) as caught:
            store.load(new_key())
        assert isinstance(caught.value.__cause__, Exception)
    finally:
        store.close()


async def test_async_store_made_while_mariadb_is_down_raises_only_on_use() -> None:
    store = open_async_store(f"mysql://root@127.0.0.1:{free_port()}/none?timeout=0.5")
    try:
        with pytest.raises(StoreUnavailable):
            await store.load(new_key())
        with pytest.raises(StoreUnavailable):
            await store.create(new_key(), make_record({"a": 1}))
    finally:
        await store.close()


async def test_app_starts_while_mariadb_is_down_answers_503_then_recovers(
    stopped: Mariadb, clients: list[httpx.AsyncClient], caplog: pytest.LogCaptureFixture
) -> None:
    store = open_async_store(table_url(stopped, timeout="0.5"))
    try:
        client = client_for(build_app(store), clients)
        token = new_token()
        cookie = SessionEngine(CONFIG).cookie_value(token)
        with caplog.at_level(logging.DEBUG):
            anonymous = await client.get("/all")
            down = await client.get(
                "/all", headers={**with_cookie(cookie), "accept": "application/json"}
            )
        assert anonymous.status_code == 200
        assert down.status_code == 503
        assert down.json()["error"]["code"] == "store_unavailable"
        assert token not in caplog.text
        assert hash_token(token) not in caplog.text

        await asyncio.to_thread(stopped.start)  # the same store object, no app restart
        back = await until_ok(client, "/write", params={"v": "1"}, headers=with_cookie(cookie))
        assert back.status_code == 200
        fresh = cookie_of(back)
        assert (await client.get("/all", headers=with_cookie(fresh))).json() == {"value": "1"}
    finally:
        await store.close()


async def test_mariadb_killed_mid_request_answers_503_and_comes_back_intact(
    stopped: Mariadb, clients: list[httpx.AsyncClient], caplog: pytest.LogCaptureFixture
) -> None:
    await asyncio.to_thread(stopped.start)
    url = table_url(stopped)
    store = open_async_store(url)
    try:
        client = client_for(build_app(store), clients)
        cookie = cookie_of(await client.get("/write", params={"key": "seed", "v": "s"}))
        headers = with_cookie(cookie)

        held, release = threading.Event(), threading.Event()
        locker = threading.Thread(
            target=hold_table_lock, args=(stopped.url, parse_url(url).table, held, release)
        )
        locker.start()
        await asyncio.to_thread(held.wait, 10)
        with caplog.at_level(logging.DEBUG):
            in_flight = [  # these wait on the lock, inside MariaDB
                asyncio.create_task(
                    client.get("/write", params={"key": f"k{i}", "v": "1"}, headers=headers)
                )
                for i in range(8)
            ]
            await asyncio.sleep(0.3)
            await asyncio.to_thread(stopped.stop, kill=True)  # a crash
            responses = await asyncio.gather(*in_flight)
            after = await client.get("/all", headers=headers)
        release.set()
        await asyncio.to_thread(locker.join)
        assert [r.status_code for r in responses] == [503] * 8
        assert after.status_code == 503
        assert token_of(cookie) not in caplog.text

        await asyncio.to_thread(stopped.start)  # crash recovery on the same data
        restored = await until_ok(client, "/all", headers=headers)
        assert restored.status_code == 200
        assert restored.json() == {"seed": "s"}  # nothing half-written, nothing lost
        again = await client.get("/write", params={"key": "later", "v": "2"}, headers=headers)
        assert again.status_code == 200
        assert (await client.get("/all", headers=headers)).json() == {"seed": "s", "later": "2"}
    finally:
        await store.close()


def test_sync_store_reconnects_after_a_crash(stopped: Mariadb) -> None:
    stopped.start()
    store = open_store(table_url(stopped, timeout="0.5"))
    try:
        key = new_key()
        assert store.create(key, make_record({"a": 1})) is True
        stopped.stop(kill=True)
        with pytest.raises(StoreUnavailable):
            store.load(key)
        stopped.start()
        deadline = time.monotonic() + 20
        while True:
            try:
                loaded = store.load(key)
                break
            except StoreError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        assert loaded is not None
        assert loaded.data == {"a": 1}
    finally:
        store.close()


@pytest.mark.parametrize("kill", [False, True])
def test_restart_between_requests_costs_no_request(stopped: Mariadb, kill: bool) -> None:
    """A restart kills every pooled connection; the next operation still succeeds."""
    stopped.start()
    store = open_store(table_url(stopped, max_connections="4"))
    try:
        key = new_key()
        store.create(key, make_record({"a": 1}))
        stopped.stop(kill=kill)
        stopped.start()
        loaded = store.load(key)  # the dead connection is found, dropped, retried
        assert loaded is not None
        assert loaded.data == {"a": 1}
    finally:
        store.close()


async def test_async_restart_between_requests_costs_no_request(stopped: Mariadb) -> None:
    await asyncio.to_thread(stopped.start)
    store = open_async_store(table_url(stopped, max_connections="4"))
    try:
        key = new_key()
        await store.create(key, make_record({"a": 1}))
        await asyncio.to_thread(stopped.stop)
        await asyncio.to_thread(stopped.start)
        loaded = await store.load(key)
        assert loaded is not None
        assert loaded.data == {"a": 1}
    finally:
        await store.close()


def test_statement_over_its_timeout_is_a_store_timeout(stopped: Mariadb) -> None:
    stopped.start()
    url = table_url(stopped, timeout="0.3")
    store = open_store(url)
    try:
        key = new_key()
        store.create(key, make_record({"a": 1}))
        held, release = threading.Event(), threading.Event()
        locker = threading.Thread(
            target=hold_table_lock, args=(stopped.url, parse_url(url).table, held, release)
        )
        locker.start()
        held.wait(10)
        try:
            started = time.monotonic()
            with pytest.raises(StoreTimeout) as caught:
                store.load(key)
            assert time.monotonic() - started < 5
        finally:
            release.set()
            locker.join()
        assert isinstance(caught.value.__cause__, pymysql.err.OperationalError)
        assert key not in str(caught.value)
        assert store.load(key) is not None  # the lock is gone: the same store works
    finally:
        store.close()


async def test_async_timeout_answers_503_with_the_timeout_code(
    stopped: Mariadb, clients: list[httpx.AsyncClient]
) -> None:
    await asyncio.to_thread(stopped.start)
    url = table_url(stopped, timeout="0.3")
    store = open_async_store(url)
    try:
        client = client_for(build_app(store), clients)
        cookie = cookie_of(await client.get("/write", params={"v": "1"}))
        held, release = threading.Event(), threading.Event()
        locker = threading.Thread(
            target=hold_table_lock, args=(stopped.url, parse_url(url).table, held, release)
        )
        locker.start()
        await asyncio.to_thread(held.wait, 10)
        try:
            slow = await client.get(
                "/all", headers={**with_cookie(cookie), "accept": "application/json"}
            )
        finally:
            release.set()
            await asyncio.to_thread(locker.join)
        assert slow.status_code == 503
        assert slow.json()["error"]["code"] == "store_timeout"
        assert (await client.get("/all", headers=with_cookie(cookie))).json() == {"value": "1"}
    finally:
        await store.close()


def wait_until_stopped(pid: int) -> None:
    """Wait until every thread of ``pid`` is stopped (a signal reaches threads running
    on another core a moment later)."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        states = [
            task.read_text().rsplit(")", 1)[1].split()[0]
            for task in Path(f"/proc/{pid}/task").glob("*/stat")
        ]
        if states and all(state in "Tt" for state in states):
            return
        time.sleep(0.01)
    raise AssertionError("the server did not stop")


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_a_hung_server_is_a_store_error_within_a_bound(stopped: Mariadb, mode: str) -> None:
    """A server that stops answering (SIGSTOP) cannot hold a request forever: the client
    side gives up (PyMySQL's read timeout, an asyncio deadline on the async side)."""
    await asyncio.to_thread(stopped.start)
    url = table_url(stopped, timeout="0.3", connect_timeout="0.5")
    sync_store, async_store = open_store(url), open_async_store(url)
    key = new_key()
    pid = stopped.pid()
    assert pid is not None
    try:
        sync_store.create(key, make_record({"a": 1}))
        await async_store.load(key)
        os.kill(pid, signal.SIGSTOP)
        wait_until_stopped(pid)
        started = time.monotonic()
        try:
            load = (
                async_store.load(key)
                if mode == "async"
                else asyncio.to_thread(sync_store.load, key)
            )
            with pytest.raises(StoreError):
                await load
        finally:
            os.kill(pid, signal.SIGCONT)
        assert time.monotonic() - started < 15
        loaded = await async_store.load(key) if mode == "async" else sync_store.load(key)
        assert loaded is not None
    finally:
        sync_store.close()
        await async_store.close()


def test_store_errors_never_carry_the_key_or_password() -> None:
    store = open_store(f"mysql://root:pw-s3cret@127.0.0.1:{free_port()}/none?timeout=0.3")
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
            assert not any(key in text or "pw-s3cret" in text for text in texts)
    finally:
        store.close()
