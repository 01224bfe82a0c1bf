"""The user store conformance suite on memory, SQLite and PostgreSQL, sync and async;
then what is specific to each store and to opening stores by URL."""

from __future__ import annotations

import asyncio
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.conftest import server_url, store_url
from websession.auth.testing import (
    AsyncUserHarness,
    SyncUserHarness,
    UserHarness,
    UserStoreConformance,
    make_user,
)
from websession.auth.userstores import (
    AsyncUserAdapter,
    MemoryUserStore,
    SQLiteUserStore,
    open_async_user_store,
    open_user_store,
)
from websession.errors import ConfigError, StoreError, StoreUnavailable

USER_STORES = ["memory", "sqlite", "postgres"]
SESSION_STORES = ["memory", "file", "sqlite", "redis", "postgres"]


def user_store_url(kind: str, tmp_path: Path) -> str:
    """A URL for a fresh, empty user store of ``kind`` (PostgreSQL: a table of its own)."""
    if kind == "memory":
        return "memory://"
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'users.db'}"
    url = server_url("postgres")
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}table=ws_users_{secrets.token_hex(6)}"


def drop_user_table(url: str) -> None:
    """Drop the table a PostgreSQL user store URL names (test clean-up)."""
    if not url.startswith("postgres"):
        return
    import psycopg
    from psycopg import sql

    from websession.auth.userstores.postgres import parse_url

    options = parse_url(url)
    with psycopg.connect(options.conninfo, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(options.table)))


def session_store_url(kind: str, tmp_path: Path) -> str:
    """``store_url`` for session stores (a fresh namespace on the server stores)."""
    return store_url(kind, tmp_path)


@pytest.fixture(params=["sync", "async"])
def mode(request: pytest.FixtureRequest) -> str:
    value: str = request.param
    return value


@pytest.fixture(params=USER_STORES)
def user_kind(request: pytest.FixtureRequest) -> str:
    value: str = request.param
    return value


class TestUserStoreConformance(UserStoreConformance):
    @pytest.fixture
    def users(self, user_kind: str, mode: str, tmp_path: Path) -> Iterator[UserHarness]:
        url = user_store_url(user_kind, tmp_path)
        harness: UserHarness
        if mode == "sync":
            harness = SyncUserHarness(open_user_store(url))
        else:
            harness = AsyncUserHarness(lambda: open_async_user_store(url))
        yield harness
        harness.close()
        drop_user_table(url)


# -- opening by URL ------------------------------------------------------------------


def test_open_user_store_by_scheme(tmp_path: Path) -> None:
    assert isinstance(open_user_store("memory://"), MemoryUserStore)
    store = open_user_store(f"sqlite:///{tmp_path / 'u.db'}")
    assert isinstance(store, SQLiteUserStore)
    assert store.path == str(tmp_path / "u.db")
    store.close()
    in_memory = open_user_store("sqlite://")
    assert isinstance(in_memory, SQLiteUserStore)
    assert in_memory.path == ":memory:"
    in_memory.close()


async def test_open_async_user_store_wraps_embedded_stores() -> None:
    store = open_async_user_store("memory://")
    assert isinstance(store, AsyncUserAdapter)
    user = make_user()
    assert await store.create(user)
    assert store.sync.get(user.id) == user


@pytest.mark.parametrize("url", ["users.db", "redis://localhost/0", "ftp://x", ""])
def test_unknown_user_store_urls_say_what_to_use(url: str) -> None:
    with pytest.raises(ConfigError, match=r"sqlite:///|memory://"):
        open_user_store(url)


def test_sqlite_users_can_share_the_sessions_database(tmp_path: Path) -> None:
    from websession.stores import open_store
    from websession.testing import make_record, new_key

    path = tmp_path / "shared.db"
    sessions = open_store(f"sqlite:///{path}")
    users = open_user_store(f"sqlite:///{path}")
    key = new_key()
    sessions.create(key, make_record({"a": 1}))
    user = make_user()
    users.create(user)
    assert users.get(user.id) == user
    assert sessions.load(key) is not None
    sessions.close()
    users.close()


def test_sqlite_user_store_reports_an_unusable_path(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(StoreUnavailable):
        SQLiteUserStore(blocker / "users.db")


def test_sqlite_user_store_failures_are_store_errors(tmp_path: Path) -> None:
    store = SQLiteUserStore(tmp_path / "users.db")
    store.close()
    with pytest.raises(StoreError) as caught:
        store.get("anyone")
    assert caught.value.__cause__ is not None


def test_sqlite_users_persist_across_opens(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'users.db'}"
    first = open_user_store(url)
    user = make_user("persistent")
    first.create(user)
    first.close()
    second = open_user_store(url)
    assert second.find("PERSISTENT") == user
    second.close()


# -- PostgreSQL ----------------------------------------------------------------------


def test_postgres_url_options_are_parsed_and_removed() -> None:
    from websession.auth.userstores.postgres import parse_url

    options = parse_url(
        "postgresql://app:secret@db.example:5433/main?table=people&max_connections=3"
        "&timeout=2.5&sslmode=require"
    )
    assert options.table == "people"
    assert options.max_connections == 3
    assert options.timeout == 2.5
    assert "table=" not in options.conninfo
    assert "sslmode=require" in options.conninfo
    assert "connect_timeout=2" in options.conninfo
    assert "secret" not in repr(options)


@pytest.mark.parametrize(
    "query", ["table=bad-name", "table=a;drop", "max_connections=0", "timeout=x"]
)
def test_postgres_url_rejects_bad_options(query: str) -> None:
    from websession.auth.userstores.postgres import parse_url

    with pytest.raises(ConfigError):
        parse_url(f"postgresql://localhost/db?{query}")


def test_postgres_user_store_does_not_connect_until_used() -> None:
    store = open_user_store("postgresql://postgres@127.0.0.1:1/none?timeout=1")
    store.close()


def test_postgres_user_store_reports_an_unreachable_server() -> None:
    store = open_user_store("postgresql://postgres@127.0.0.1:1/none?timeout=1")
    try:
        with pytest.raises(StoreUnavailable) as caught:
            store.find("anyone")
        assert caught.value.__cause__ is not None
    finally:
        store.close()


async def test_async_postgres_user_store_reports_an_unreachable_server() -> None:
    store = open_async_user_store("postgresql://postgres@127.0.0.1:1/none?timeout=1")
    try:
        with pytest.raises(StoreUnavailable):
            await store.get("anyone")
    finally:
        await store.close()


@pytest.mark.postgres
def test_postgres_users_are_shared_between_sync_and_async_stores(tmp_path: Path) -> None:
    url = user_store_url("postgres", tmp_path)
    sync = open_user_store(url)
    harness = AsyncUserHarness(lambda: open_async_user_store(url))
    try:
        user = make_user()
        assert sync.create(user)
        assert harness.get(user.id) == user
        assert not harness.create(make_user(user.username.upper()))
    finally:
        sync.close()
        harness.close()
        drop_user_table(url)


# -- SQLite: readers never wait for a writer -----------------------------------------


@pytest.fixture
def write_locked(tmp_path: Path) -> Iterator[Path]:
    """An SQLite users database whose write lock another process holds for 2 seconds."""
    path = tmp_path / "users.db"
    SQLiteUserStore(path).close()  # the table exists
    script = (
        "import sqlite3, sys, time\n"
        "db = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
        "db.execute('BEGIN IMMEDIATE')\n"
        "print('locked', flush=True)\n"
        "time.sleep(2)\n"
        "db.execute('COMMIT')\n"
    )
    with subprocess.Popen(
        [sys.executable, "-c", script, str(path)], stdout=subprocess.PIPE, text=True
    ) as holder:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "locked"
        yield path
        holder.wait(timeout=30)


def test_sqlite_reads_go_on_while_a_write_waits_for_another_process(write_locked: Path) -> None:
    store = SQLiteUserStore(write_locked, timeout=10)
    try:
        with ThreadPoolExecutor(max_workers=1) as pool:
            writing = pool.submit(store.create, make_user("late"))
            time.sleep(0.2)  # the write now waits for the other process's lock
            assert not writing.done()
            started = time.monotonic()
            assert store.find("nobody") is None
            assert store.get("nobody") is None
            assert time.monotonic() - started < 1.0  # not the rest of the 2 s lock
            assert writing.result(timeout=30) is True
        assert store.find("late") is not None
    finally:
        store.close()


async def test_async_sqlite_writes_waiting_for_a_lock_do_not_stall_the_loop(
    write_locked: Path,
) -> None:
    store = open_async_user_store(f"sqlite:///{write_locked}")
    try:
        writing = asyncio.ensure_future(store.create(make_user("late")))
        await asyncio.sleep(0.2)
        assert not writing.done()
        started = time.monotonic()
        assert await store.find("nobody") is None
        await asyncio.sleep(0.01)  # the loop itself answers at once
        assert time.monotonic() - started < 1.0
        assert await writing is True
    finally:
        await store.close()


@pytest.mark.postgres
def test_postgres_user_store_takes_setup_false_as_the_session_store_does(tmp_path: Path) -> None:
    import psycopg

    from websession.auth.userstores.postgres import PostgresUserStore

    url = user_store_url("postgres", tmp_path) + "&setup=false"
    store = open_user_store(url)
    assert isinstance(store, PostgresUserStore)
    try:
        with pytest.raises(StoreError) as caught:
            store.get("anyone")
        assert isinstance(caught.value.__cause__, psycopg.errors.UndefinedTable)
        store.setup()
        store.setup()  # idempotent
        user = make_user()
        assert store.create(user)
        assert store.get(user.id) == user
    finally:
        store.close()
        drop_user_table(url)


def test_postgres_user_store_repr_never_shows_the_password() -> None:
    store = open_user_store("postgresql://app:s3cret-pw@db.internal/users?timeout=0.1")
    try:
        assert "s3cret-pw" not in repr(store)
        assert "db.internal" in repr(store)
    finally:
        store.close()
