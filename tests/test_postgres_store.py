"""PostgreSQL-specific behaviour of the PostgreSQL store, on the real test server:
statements per operation and per request (counted by pg_stat_statements), the schema,
bounded purges, explicit setup, URL options."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.conftest import server_url, store_url
from tests.serverapp import request_costs
from websession.cli.main import main
from websession.errors import ConfigError, StoreError, StoreTimeout
from websession.stores import open_async_store, open_store
from websession.stores.postgres import (
    AsyncPostgresStore,
    PostgresStore,
    open_sync,
    parse_url,
    schema_statements,
)
from websession.testing import FakeClock, make_record, new_key
from websession.types import Changes

HOUR = 3600.0


@pytest.fixture
def url(tmp_path: Path) -> str:
    return store_url("postgres", tmp_path)


@pytest.fixture
def table(url: str) -> str:
    return parse_url(url).table


@pytest.fixture
def store(url: str) -> Iterator[PostgresStore]:
    store = open_sync(url)
    yield store
    store.close()


@pytest.fixture
def admin() -> Iterator[psycopg.Connection[Any]]:
    """A separate connection to the test server, for looking behind the store's back."""
    with psycopg.connect(server_url("postgres"), autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        yield conn


def statements(admin: psycopg.Connection[Any], table: str) -> int:
    """How many statements on ``table`` the server has executed so far."""
    row = admin.execute(
        "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements WHERE query LIKE %s",
        (f'%"{table}"%',),
    ).fetchone()
    assert row is not None
    return int(row[0])


def statements_during(
    admin: psycopg.Connection[Any], table: str, action: Callable[[], object]
) -> int:
    before = statements(admin, table)
    action()
    return statements(admin, table) - before


def test_every_operation_is_one_statement(
    store: PostgresStore, admin: psycopg.Connection[Any], table: str
) -> None:
    key, other = new_key(), new_key()
    store.load(key)  # the schema is made on first use, outside the counts below
    now = FakeClock()()
    operations: list[Callable[[], object]] = [
        lambda: store.create(key, make_record({"a": 1}, user_id="u")),
        lambda: store.load(key),
        lambda: store.update(key, Changes(now, now + HOUR, {"b": 2}, frozenset({"a"}))),
        lambda: store.touch(key, now, now + HOUR),
        lambda: store.replace(key, other, make_record({"c": 3}, user_id="u")),
        lambda: store.list_user("u", now),
        lambda: store.delete_user("u"),
        lambda: store.delete(other),
        lambda: store.purge_expired(now),
        lambda: store.scan(None, 10),
        lambda: store.replace(other, key, make_record({})),  # refused: still one statement
    ]
    assert [statements_during(admin, table, op) for op in operations] == [1] * len(operations)


def test_schema_is_jsonb_with_expiry_and_partial_user_indexes(
    store: PostgresStore, admin: psycopg.Connection[Any], table: str
) -> None:
    key = new_key()
    store.create(key, make_record({"cart": [1, {"x": None}]}, user_id="alice"))
    kind = admin.execute(
        "SELECT data_type FROM information_schema.columns WHERE table_name = %s "
        "AND column_name = 'data'",
        (table,),
    ).fetchone()
    assert kind == ("jsonb",)
    row = admin.execute(
        f'SELECT data, user_id FROM "{table}" WHERE key = %s',  # noqa: S608
        (key,),
    ).fetchone()
    assert row == ({"cart": [1, {"x": None}]}, "alice")
    indexes = dict(
        admin.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s", (table,)
        ).fetchall()
    )
    assert "(expires_at)" in indexes[f"{table}_expires_idx"]
    assert "WHERE (user_id IS NOT NULL)" in indexes[f"{table}_user_idx"]


def test_user_lookups_can_use_the_user_index(
    store: PostgresStore, admin: psycopg.Connection[Any], table: str
) -> None:
    store.create(new_key(), make_record({}, user_id="alice"))
    with admin.transaction():
        admin.execute("SET LOCAL enable_seqscan = off")
        plan = admin.execute(
            f"EXPLAIN DELETE FROM \"{table}\" WHERE user_id = 'alice'"  # noqa: S608
        ).fetchall()
    assert f"{table}_user_idx" in "\n".join(line for (line,) in plan)


def test_concurrent_patches_from_two_processes_worth_of_pools_all_survive(url: str) -> None:
    """Two stores (two pools) patch one row from many threads; no key is lost."""
    first, second = open_sync(url), open_sync(url)
    try:
        key = new_key()
        first.create(key, make_record({"seed": 0}))
        now = FakeClock()()

        def patch(i: int) -> bool:
            store = first if i % 2 else second
            return store.update(key, Changes(now, now + HOUR, {f"k{i}": i}))

        with ThreadPoolExecutor(16) as pool:
            assert all(pool.map(patch, range(100)))
        loaded = first.load(key)
        assert loaded is not None
        assert loaded.data == {"seed": 0, **{f"k{i}": i for i in range(100)}}
    finally:
        first.close()
        second.close()


def test_purge_deletes_expired_rows_in_bounded_batches(store: PostgresStore) -> None:
    clock = FakeClock()
    now = clock()
    live = new_key()
    store.create(live, make_record({}, now=now))
    for _ in range(25):
        store.create(new_key(), make_record({}, now=now - 3 * HOUR))
    assert [store.purge_expired(now, limit=10) for _ in range(4)] == [10, 10, 5, 0]
    assert store.load(live) is not None


def test_setup_false_needs_the_schema_and_setup_makes_it(url: str) -> None:
    store = open_sync(url + "&setup=false")
    try:
        with pytest.raises(StoreError) as caught:
            store.load(new_key())
        assert isinstance(caught.value.__cause__, psycopg.errors.UndefinedTable)
        store.setup()
        store.setup()  # idempotent
        key = new_key()
        assert store.create(key, make_record({"a": 1})) is True
        assert store.load(key) is not None
    finally:
        store.close()


async def test_async_setup_and_first_use_race_safely(url: str) -> None:
    store = open_async_store(url)
    assert isinstance(store, AsyncPostgresStore)
    try:
        keys = [new_key() for _ in range(20)]
        created = await asyncio.gather(*(store.create(k, make_record({"i": 1})) for k in keys))
        assert created == [True] * 20
        await store.setup()
    finally:
        await store.close()


def test_schema_statements_are_what_the_store_runs(table: str) -> None:
    statements = schema_statements(table)
    assert statements[0].startswith(f'CREATE TABLE IF NOT EXISTS "{table}" ')
    assert "data JSONB NOT NULL" in statements[0]
    with pytest.raises(ConfigError):
        schema_statements("bad; DROP TABLE x")


async def test_requests_cost_zero_one_and_two_statements(
    url: str, admin: psycopg.Connection[Any], table: str
) -> None:
    costs = await request_costs(
        url, lambda: statements(admin, table), lambda before, after: after - before
    )
    # no cookie: no I/O; read: one SELECT; write: load + patch; refresh: load + touch
    assert costs == [0, 1, 2, 2, 1]


# -- URL options -----------------------------------------------------------------------


def test_url_defaults() -> None:
    options = parse_url("postgresql://app@db.internal/sessions")
    assert options.table == "websession_sessions"
    assert options.max_connections == 10
    assert options.timeout == 2.0
    assert options.setup is True
    assert options.conninfo == "postgresql://app@db.internal/sessions?connect_timeout=2"


def test_url_options_are_taken_out_and_libpq_options_kept() -> None:
    options = parse_url(
        "postgres://app:pw@db:5433/s?table=my_sessions&max_connections=3&timeout=0.5"
        "&setup=false&sslmode=require&connect_timeout=7"
    )
    assert (options.table, options.max_connections, options.timeout, options.setup) == (
        "my_sessions",
        3,
        0.5,
        False,
    )
    assert options.conninfo == "postgresql://app:pw@db:5433/s?sslmode=require&connect_timeout=7"


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("postgresql://h/db?table=bad-name", "table name"),
        ("postgresql://h/db?table=" + "x" * 51, "table name"),
        ("postgresql://h/db?max_connections=0", "max_connections"),
        ("postgresql://h/db?timeout=-1", "timeout"),
        ("postgresql://h/db?timeout=soon", "timeout"),
        ("postgresql://h/db?setup=maybe", "setup"),
        ("postgresql://h/db?table=a&table=b", "twice"),
        ("mysql://h/db", "postgresql://"),
    ],
)
def test_bad_url_is_a_config_error(url: str, says: str) -> None:
    with pytest.raises(ConfigError, match=says):
        parse_url(url)


def test_password_never_shown() -> None:
    store = open_sync("postgresql://app:s3cret-pw@db.internal/sessions?timeout=0.1")
    try:
        assert "s3cret-pw" not in repr(store)
        assert "s3cret-pw" not in repr(store.options)
        with pytest.raises(ConfigError) as caught:
            parse_url("postgresql://app:s3cret-pw@db/s?max_connections=x")
        assert "s3cret-pw" not in str(caught.value)
    finally:
        store.close()


def test_open_store_picks_the_postgres_store_for_both_schemes() -> None:
    for scheme in ("postgresql", "postgres"):
        store = open_store(f"{scheme}://app@db/s")
        assert isinstance(store, PostgresStore)
        store.close()


async def test_open_async_store_picks_the_async_postgres_store() -> None:
    store = open_async_store("postgresql://app@db/s")
    assert isinstance(store, AsyncPostgresStore)
    await store.close()


def test_websession_setup_creates_the_table(
    url: str, admin: psycopg.Connection[Any], table: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["setup", "--store", url]) == 0
    assert "the PostgresStore is ready" in capsys.readouterr().out
    found = admin.execute("SELECT to_regclass(%s)", (table,)).fetchone()
    assert found == (table,)


async def test_async_cancelled_statement_leaves_the_pool_usable(
    url: str, admin: psycopg.Connection[Any], table: str
) -> None:
    store = AsyncPostgresStore(parse_url(url + "&max_connections=1"))
    try:
        key, other = new_key(), new_key()
        await store.create(key, make_record({"who": "key"}))
        await store.create(other, make_record({"who": "other"}))
        with admin.transaction():  # hold the row lock: the store's UPDATE waits on it
            admin.execute(f"SELECT 1 FROM {table} WHERE key = %s FOR UPDATE", (key,))  # noqa: S608
            pending = asyncio.create_task(
                store.update(key, Changes(last_seen=1.0, expires_at=2.0, set={"b": 1}))
            )
            await asyncio.sleep(0.2)
            pending.cancel()
            with pytest.raises(asyncio.CancelledError):
                await pending
        loaded = await store.load(other)  # the one pooled connection, or its replacement
        assert loaded is not None
        assert loaded.data == {"who": "other"}
        again = await store.load(key)
        assert again is not None
        assert again.data == {"who": "key"}
    finally:
        await store.close()


def test_statements_are_rendered_once(store: PostgresStore) -> None:
    statements = vars(store._sql)
    assert all(
        type(value) is str
        for name, value in statements.items()
        if name not in ("schema", "lock_key")
    )


async def test_async_store_uses_at_most_max_connections(
    url: str, admin: psycopg.Connection[Any]
) -> None:
    name = "websession-test-" + new_key()[:12]
    store = AsyncPostgresStore(parse_url(url + f"&max_connections=2&application_name={name}"))
    try:
        keys = [new_key() for _ in range(10)]
        for key in keys:
            await store.create(key, make_record({"a": 1}))
        seen: list[int] = []

        async def count() -> None:
            for _ in range(20):
                row = admin.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", (name,)
                ).fetchone()
                assert row is not None
                seen.append(int(row[0]))
                await asyncio.sleep(0.005)

        loads = asyncio.gather(*(store.load(key) for key in keys * 20))
        await count()
        assert all(record is not None for record in await loads)
        assert max(seen) <= 2
    finally:
        await store.close()


async def test_async_wait_for_a_busy_store_is_a_timeout(url: str) -> None:
    store = AsyncPostgresStore(parse_url(url + "&max_connections=1&timeout=0.3"))
    try:
        key = new_key()
        await store.create(key, make_record({"a": 1}))
        await store._db.lease._slots.acquire()  # the one connection is busy elsewhere
        with pytest.raises(StoreTimeout, match="no PostgreSQL connection became free"):
            await store.load(key)
        store._db.lease._slots.release()
        loaded = await store.load(key)
        assert loaded is not None
        assert loaded.data == {"a": 1}
    finally:
        await store.close()


async def test_async_store_hands_held_connections_back_when_idle(url: str) -> None:
    """A connection kept for reuse goes back to the pool within about a second even if
    no further request comes, so the pool can check and recycle it."""
    store = open_async_store(url)
    assert isinstance(store, AsyncPostgresStore)
    try:
        await store.load(new_key())
        assert store._db.lease._held  # kept for the next operation
        deadline = asyncio.get_running_loop().time() + 5
        while store._db.lease._held and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.1)
        assert not store._db.lease._held
        assert store._db.pool.get_stats()["pool_available"] >= 1
        assert await store.load(new_key()) is None  # and the store goes on working
    finally:
        await store.close()
