"""PostgreSQL faults with real processes: a throwaway PostgreSQL cluster of this module's
own, started, crashed (immediate shutdown) and restarted here; plus concurrency at scale
on the shared test server."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from scripts.servers import Postgres, free_port
from tests.freezing import frozen, postgres_pids
from tests.serverapp import CONFIG, build_app, client_for, cookie_of, token_of, with_cookie
from websession.core.engine import SessionEngine
from websession.core.tokens import hash_token, new_token
from websession.errors import StoreError, StoreTimeout, StoreUnavailable
from websession.stores import open_async_store, open_store
from websession.stores.postgres import parse_url
from websession.testing import make_record, new_key

CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(scope="module")
def server() -> Iterator[Postgres]:
    """One throwaway cluster for the module; each test finds it stopped and leaves it so."""
    if shutil.which("pg_ctl") is None and not list(Path("/usr/lib/postgresql").glob("*/bin")):
        message = "PostgreSQL binaries are missing: `make test` needs them"
        if CI:
            pytest.fail(message)
        pytest.skip(message)
    folder = Path(tempfile.mkdtemp(prefix="websession-pg-faults-"))
    folder.chmod(0o755)  # the postgres user must reach its data directory inside
    process = Postgres(folder / "postgres", free_port(), durable=True)
    yield process
    process.stop("immediate")
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def stopped(server: Postgres) -> Iterator[Postgres]:
    server.stop("immediate")
    yield server
    server.stop("immediate")


def table_url(server: Postgres, **options: str) -> str:
    query = "&".join(f"{k}={v}" for k, v in {"table": f"t{new_key()[:12]}", **options}.items())
    return f"{server.url}?{query}"


async def until_ok(client: httpx.AsyncClient, path: str, **kwargs: Any) -> httpx.Response:
    """The first 200 within 15 seconds: the pool reconnects in the background."""
    deadline = time.monotonic() + 15
    while True:
        response = await client.get(path, **kwargs)
        if response.status_code == 200 or time.monotonic() > deadline:
            return response
        assert response.status_code == 503
        await asyncio.sleep(0.1)


# -- server down, crashed, back ----------------------------------------------------------


def test_store_made_while_postgres_is_down_raises_only_on_use() -> None:
    store = open_store(f"postgresql://postgres@127.0.0.1:{free_port()}/postgres?timeout=0.5")
    try:
        with pytest.raises(StoreUnavailable) as caught:
            store.load(new_key())
        assert isinstance(caught.value.__cause__, Exception)
    finally:
        store.close()


async def test_async_store_made_while_postgres_is_down_raises_only_on_use() -> None:
    store = open_async_store(f"postgresql://postgres@127.0.0.1:{free_port()}/postgres?timeout=0.5")
    try:
        with pytest.raises(StoreUnavailable):
            await store.load(new_key())
        with pytest.raises(StoreUnavailable):
            await store.create(new_key(), make_record({"a": 1}))
    finally:
        await store.close()


async def test_app_starts_while_postgres_is_down_answers_503_then_recovers(
    stopped: Postgres, clients: list[httpx.AsyncClient], caplog: pytest.LogCaptureFixture
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
        assert anonymous.status_code == 200  # no cookie: no store I/O, nothing to fail
        assert down.status_code == 503
        assert down.json()["error"]["code"] == "store_unavailable"
        assert token not in caplog.text
        assert hash_token(token) not in caplog.text

        stopped.start()  # the same store object, no restart of the app
        back = await until_ok(client, "/write", params={"v": "1"}, headers=with_cookie(cookie))
        assert back.status_code == 200
        fresh = cookie_of(back)  # the unknown session was replaced by a fresh one
        assert (await client.get("/all", headers=with_cookie(fresh))).json() == {"value": "1"}
    finally:
        await store.close()


def hold_table_lock(url: str, table: str, held: threading.Event, release: threading.Event) -> None:
    """Hold an exclusive lock on ``table`` until ``release``: statements on it wait."""
    try:
        with psycopg.connect(url) as conn:
            conn.execute(f'LOCK TABLE "{table}" IN ACCESS EXCLUSIVE MODE')
            held.set()
            release.wait(30)
    except psycopg.OperationalError:
        pass  # the server went away under us: that is the test
    finally:
        held.set()


async def test_postgres_crashing_mid_request_answers_503_and_comes_back_intact(
    stopped: Postgres, clients: list[httpx.AsyncClient], caplog: pytest.LogCaptureFixture
) -> None:
    stopped.start()
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
            in_flight = [  # these wait on the lock, inside PostgreSQL
                asyncio.create_task(
                    client.get("/write", params={"key": f"k{i}", "v": "1"}, headers=headers)
                )
                for i in range(8)
            ]
            await asyncio.sleep(0.3)
            await asyncio.to_thread(stopped.stop, "immediate")  # a crash, as far as clients see
            responses = await asyncio.gather(*in_flight)
            after = await client.get("/all", headers=headers)
        release.set()
        await asyncio.to_thread(locker.join)
        assert [r.status_code for r in responses] == [503] * 8
        assert after.status_code == 503
        assert token_of(cookie) not in caplog.text

        stopped.start()  # crash recovery on the same data directory
        restored = await until_ok(client, "/all", headers=headers)
        assert restored.status_code == 200
        assert restored.json() == {"seed": "s"}  # nothing half-written, nothing lost
        again = await client.get("/write", params={"key": "later", "v": "2"}, headers=headers)
        assert again.status_code == 200
        assert (await client.get("/all", headers=headers)).json() == {"seed": "s", "later": "2"}
    finally:
        await store.close()


def test_sync_store_reconnects_after_a_restart(stopped: Postgres) -> None:
    stopped.start()
    store = open_store(table_url(stopped, timeout="0.5"))
    try:
        key = new_key()
        assert store.create(key, make_record({"a": 1})) is True
        stopped.stop("immediate")
        with pytest.raises(StoreUnavailable):
            store.load(key)
        stopped.start()
        deadline = time.monotonic() + 15
        while True:  # the pool replaces its dead connections in the background
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


def test_restart_between_requests_costs_no_request(stopped: Postgres) -> None:
    """A clean restart kills every pooled connection; the next operation still succeeds."""
    stopped.start()
    store = open_store(table_url(stopped, max_connections="4"))
    try:
        key = new_key()
        store.create(key, make_record({"a": 1}))
        stopped.stop("fast")
        stopped.start()
        loaded = store.load(key)  # the dead connection is found, checked away, retried
        assert loaded is not None
        assert loaded.data == {"a": 1}
    finally:
        store.close()


def test_statement_over_its_timeout_is_a_store_timeout(stopped: Postgres) -> None:
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
            assert time.monotonic() - started < 3
        finally:
            release.set()
            locker.join()
        assert isinstance(caught.value.__cause__, psycopg.errors.QueryCanceled)
        assert key not in str(caught.value)
        assert store.load(key) is not None  # the lock is gone: the same store works
    finally:
        store.close()


async def test_async_timeout_answers_503_with_the_timeout_code(
    stopped: Postgres, clients: list[httpx.AsyncClient]
) -> None:
    stopped.start()
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


def test_store_errors_never_carry_the_key_or_password() -> None:
    url = f"postgresql://postgres:pw-s3cret@127.0.0.1:{free_port()}/postgres?timeout=0.3"
    store = open_store(url)
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


# -- the client-side deadline, fast 503s, one message per outage -----------------------

FREEZE = 4.0
"""Seconds a frozen server stays frozen: longer than any bound the tests allow."""


def loaded_soon(store: Any, key: str) -> Any:
    """The record once the store answers again (within 15 seconds)."""
    deadline = time.monotonic() + 15
    while True:
        try:
            return store.load(key)
        except StoreError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_sync_store_answers_in_time_while_postgres_is_frozen(stopped: Postgres) -> None:
    stopped.start()
    store = open_store(table_url(stopped, timeout="0.5", max_connections="2"))
    key = new_key()
    try:
        store.create(key, make_record({"a": 1}))
        took: list[float] = []
        errors: list[BaseException] = []

        def load() -> None:
            started = time.monotonic()
            try:
                store.load(key)
            except StoreError as exc:
                errors.append(exc)
            took.append(time.monotonic() - started)

        with frozen(postgres_pids(stopped.data), at_most=FREEZE):
            threads = [threading.Thread(target=load) for _ in range(6)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(FREEZE)
            time.sleep(max(0.0, FREEZE - max(took, default=FREEZE)))
        assert len(took) == 6
        assert max(took) < 2.5  # 0.5 s timeout + 0.25 s grace, with a generous margin
        assert len(errors) == 6
        assert all(isinstance(e, StoreTimeout | StoreUnavailable) for e in errors)
        loaded = loaded_soon(store, key)  # thawed: the same store, no broken connection
        assert loaded is not None
        assert loaded.data == {"a": 1}
    finally:
        store.close()


async def test_async_store_answers_in_time_while_postgres_is_frozen(stopped: Postgres) -> None:
    stopped.start()
    store = open_async_store(table_url(stopped, timeout="0.5", max_connections="2"))
    key = new_key()
    try:
        await store.create(key, make_record({"a": 1}))

        async def load() -> float:
            started = time.monotonic()
            with pytest.raises((StoreTimeout, StoreUnavailable)):
                await store.load(key)
            return time.monotonic() - started

        with frozen(postgres_pids(stopped.data), at_most=FREEZE):
            started = time.monotonic()
            took = await asyncio.gather(*(load() for _ in range(6)))
            await asyncio.sleep(max(0.0, FREEZE - (time.monotonic() - started)))
        assert max(took) < 2.5
        deadline = time.monotonic() + 15
        while True:
            try:
                loaded = await store.load(key)
                break
            except StoreError:
                assert time.monotonic() < deadline
                await asyncio.sleep(0.1)
        assert loaded is not None
        assert loaded.data == {"a": 1}
    finally:
        await store.close()


def test_refused_connections_answer_503_in_milliseconds_then_recover(stopped: Postgres) -> None:
    stopped.start()
    store = open_store(table_url(stopped, timeout="1"))
    key = new_key()
    try:
        store.create(key, make_record({"a": 1}))
        stopped.stop("immediate")
        with pytest.raises(StoreUnavailable):  # finds out: up to the timeout
            store.load(key)
        took = []
        for _ in range(20):
            started = time.monotonic()
            with pytest.raises(StoreUnavailable):
                store.load(key)
            took.append(time.monotonic() - started)
        took.sort()
        assert took[len(took) // 2] < 0.1  # most answer at once; a probe may wait
        stopped.start()
        started = time.monotonic()
        loaded = loaded_soon(store, key)
        assert time.monotonic() - started < 5
        assert loaded is not None
    finally:
        store.close()


def test_every_caller_during_an_outage_hears_unreachable(stopped: Postgres) -> None:
    """Callers whose waits end together while the server is frozen each hear that it
    does not answer, none that "no connection became free" (a pool too small)."""
    stopped.start()
    store = open_store(table_url(stopped, timeout="0.5", max_connections="2"))
    store.load(new_key())  # the table exists
    together = threading.Barrier(12)
    errors: list[BaseException] = []

    def load() -> None:
        together.wait(10)
        try:
            store.load(new_key())
        except StoreError as exc:
            errors.append(exc)

    try:
        with frozen(postgres_pids(stopped.data), at_most=FREEZE):
            threads = [threading.Thread(target=load) for _ in range(12)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(30)
        assert len(errors) == 12
        assert not any("became free" in str(e) for e in errors)
        assert sum(isinstance(e, StoreUnavailable) for e in errors) >= 10
    finally:
        store.close()


async def test_an_outage_is_logged_once_as_unreachable(
    stopped: Postgres, caplog: pytest.LogCaptureFixture
) -> None:
    store = open_async_store(table_url(stopped, timeout="0.3"))
    try:
        with caplog.at_level(logging.INFO):
            for _ in range(30):
                with pytest.raises(StoreUnavailable):
                    await store.load(new_key())
                await asyncio.sleep(0.03)
        ours = [r for r in caplog.records if r.name == "websession.stores.postgres"]
        assert len(ours) == 1
        assert "unreachable" in ours[0].getMessage()
        assert "became free" not in caplog.text
        pool = [r.msg for r in caplog.records if r.name == "psycopg.pool" and r.levelno >= 30]
        assert all(pool.count(message) == 1 for message in pool)
    finally:
        await store.close()
