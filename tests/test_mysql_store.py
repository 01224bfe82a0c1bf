"""MySQL / MariaDB store specifics (the conformance suite covers the contract): URL
options, schema, patches of awkward member names, the per-request statement count
measured by the server, and the CLI's ``setup --sql``."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pymysql
import pytest

from tests.conftest import server_url, store_url
from tests.serverapp import request_costs
from websession.cli.main import main
from websession.errors import ConfigError, StoreError
from websession.stores import open_async_store, open_store
from websession.stores.mysql import AsyncMysqlStore, MysqlStore, parse_url, schema_statements
from websession.testing import make_record, new_key
from websession.types import Changes


@pytest.fixture
def url(tmp_path: Path) -> str:
    return store_url("mysql", tmp_path)


@pytest.fixture
def admin() -> Iterator[pymysql.Connection[Any]]:
    options = parse_url(server_url("mysql"))
    conn = pymysql.connect(
        host=options.host,
        port=options.port,
        user=options.user,
        password=options.password,
        database=options.database,
        autocommit=True,
    )
    yield conn
    conn.close()


def statements(admin: pymysql.Connection[Any], table: str) -> int:
    """Statements on ``table`` so far, as performance_schema counts them."""
    with admin.cursor() as cursor:
        cursor.execute(
            "SELECT COALESCE(SUM(COUNT_STAR), 0) FROM "
            "performance_schema.events_statements_summary_by_digest WHERE DIGEST_TEXT LIKE %s",
            (f"%`{table}`%",),
        )
        row = cursor.fetchone()
    assert row is not None
    return int(row[0])


async def test_requests_cost_zero_one_and_two_statements(
    url: str, admin: pymysql.Connection[Any]
) -> None:
    table = parse_url(url).table
    costs = await request_costs(
        url, lambda: statements(admin, table), lambda before, after: after - before
    )
    # no cookie: no I/O; read: one SELECT; write: load + patch; refresh: load + touch
    assert costs == [0, 1, 2, 2, 1]


@pytest.mark.parametrize(
    "name", ['qu"ote', "back\\slash", "dot.ted", "st*r", "é😀", "new\nline", "$", "[0]", ""]
)
def test_patches_reach_members_with_awkward_names(url: str, name: str) -> None:
    store = open_store(url)
    try:
        key = new_key()
        store.create(key, make_record({name: 1, "other": {"x": 1}}))
        assert store.update(key, Changes(1, 2, set={name: {"n": None}}, remove=frozenset()))
        loaded = store.load(key)
        assert loaded is not None
        assert loaded.data == {name: {"n": None}, "other": {"x": 1}}
        assert store.update(key, Changes(1, 2, remove=frozenset({name, "missing"})))
        loaded = store.load(key)
        assert loaded is not None
        assert loaded.data == {"other": {"x": 1}}
    finally:
        store.close()


async def test_sync_and_async_stores_share_rows(url: str) -> None:
    sync, async_ = open_store(url), open_async_store(url)
    try:
        key = new_key()
        assert sync.create(key, make_record({"from": "sync"}, user_id="u1"))
        loaded = await async_.load(key)
        assert loaded is not None
        assert (loaded.data, loaded.user_id) == ({"from": "sync"}, "u1")
    finally:
        sync.close()
        await async_.close()


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_scan_pages_in_key_order_with_the_last_key_as_cursor(url: str, mode: str) -> None:
    keys = sorted(new_key() for _ in range(25))
    if mode == "sync":
        store = MysqlStore(parse_url(url))
        for key in keys:
            store.create(key, make_record({}))
        page, cursor = store.scan(None, 10)
        rest, _ = store.scan(cursor, 100)
        store.close()
    else:
        async_store = AsyncMysqlStore(parse_url(url))
        for key in keys:
            await async_store.create(key, make_record({}))
        page, cursor = await async_store.scan(None, 10)
        rest, _ = await async_store.scan(cursor, 100)
        await async_store.close()
    assert [key for key, _ in page] == keys[:10]
    assert cursor == keys[9]
    assert [key for key, _ in rest] == keys[10:]


def test_purge_deletes_in_bounded_batches(url: str) -> None:
    store = MysqlStore(parse_url(url))
    try:
        for _ in range(7):
            store.create(new_key(), make_record({}, now=1000.0))
        live = new_key()
        store.create(live, make_record({}))
        assert store.purge_expired(100000.0, limit=3) == 3
        assert store.purge_expired(100000.0, limit=3) == 3
        assert store.purge_expired(100000.0, limit=3) == 1
        assert store.purge_expired(100000.0, limit=3) == 0
        assert store.load(live) is not None
    finally:
        store.close()


def test_values_too_long_for_their_columns_are_refused_not_cut(url: str) -> None:
    store = open_store(url)
    try:
        key = new_key()
        with pytest.raises(StoreError, match="at most 255"):
            store.create(key, make_record({}, user_id="u" * 256))
        with pytest.raises(StoreError, match="at most 255"):
            store.update(key, Changes(1, 2, set_user=True, user_id="u" * 256))
        assert store.create(key, make_record({}, user_id="u" * 255))
        assert store.list_user("u" * 255, 0) != []  # type: ignore[attr-defined]  # UserIndex
    finally:
        store.close()


def test_setup_false_needs_the_table(url: str) -> None:
    store = MysqlStore(parse_url(url + "&setup=false"))
    try:
        with pytest.raises(Exception, match="statement failed"):
            store.load(new_key())
        store.setup()
        assert store.load(new_key()) is None
    finally:
        store.close()


def test_schema_statements_are_what_the_store_runs() -> None:
    [create] = schema_statements("my_sessions")
    assert create.startswith("CREATE TABLE IF NOT EXISTS `my_sessions` (")
    assert "data JSON NOT NULL" in create
    with pytest.raises(ConfigError):
        schema_statements("bad; DROP TABLE x")


def test_setup_sql_prints_the_mysql_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["setup", "--sql", "--store", "mariadb://app@db/s?table=my_sessions"]) == 0
    assert capsys.readouterr().out.startswith("CREATE TABLE IF NOT EXISTS `my_sessions`")


# -- URL options -----------------------------------------------------------------------


def test_url_defaults() -> None:
    options = parse_url("mysql://app:pw@db.internal/sessions")
    assert (options.host, options.port, options.user, options.database) == (
        "db.internal",
        3306,
        "app",
        "sessions",
    )
    assert (options.table, options.max_connections, options.timeout, options.setup) == (
        "websession_sessions",
        10,
        2.0,
        True,
    )
    assert "pw" not in repr(options)


def test_url_options() -> None:
    options = parse_url(
        "mariadb://a%40b:p%2Fw@db:3307/s?table=t1&max_connections=3&timeout=0.5"
        "&setup=off&connect_timeout=7"
    )
    assert (options.user, options.password, options.port) == ("a@b", "p/w", 3307)
    assert (options.table, options.max_connections, options.timeout) == ("t1", 3, 0.5)
    assert (options.setup, options.connect_timeout) == (False, 7.0)


@pytest.mark.parametrize(
    "tail",
    [
        "/s?timeout=0",
        "/s?max_connections=none",
        "/s?table=bad-name",
        "/s?sslmode=require",
        "/s?setup=maybe",
        "/",
        ":port/s",
    ],
)
def test_url_mistakes_are_config_errors_without_the_password(tail: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_url(f"mysql://app:hunter2-secret@db{tail}")
    assert "hunter2-secret" not in str(caught.value)


def test_store_repr_never_shows_the_password() -> None:
    store = open_store("mysql://app:s3cret-pw@db.internal/s")
    assert "s3cret-pw" not in repr(store)
    store.close()


@pytest.mark.parametrize(
    "user_id", [None, "", "alice", "7 dwarfs", "a b\tc", " - ", "émile 🍪", "x" * 255]
)
async def test_load_reads_back_every_field_exactly(url: str, user_id: str | None) -> None:
    """``load`` reads one packed column: user ids with spaces, digits, dashes or
    astral characters, and float deadlines, come back as they went in."""
    store = open_async_store(url)
    try:
        key = new_key()
        record = make_record({"a b": [1, " x "], "7": None, "-": "é"}, user_id=user_id)
        record = dataclasses.replace(record, created_at=record.created_at + 0.123456789012)
        assert await store.create(key, record)
        assert await store.load(key) == record
        sync = open_store(url)
        try:
            assert sync.load(key) == record
        finally:
            sync.close()
    finally:
        await store.close()
