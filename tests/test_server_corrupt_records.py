"""A corrupt record on Redis or PostgreSQL (garbage, JSON that is not an object, wrong
field types) is logged once, read as no session and removed: never a 5xx. PostgreSQL
URLs: a quoted table name, query values passed through, options merged."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import httpx
import psycopg
import pytest
import redis
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.conftest import server_url, store_url
from websession import SessionConfig, SessionMiddleware
from websession.core.engine import SessionEngine
from websession.core.tokens import hash_token, new_token
from websession.stores import open_async_store
from websession.stores.base import AsyncStore
from websession.stores.postgres import parse_url
from websession.stores.postgres.pool import pool_settings
from websession.testing import make_record, new_key
from websession.types import SessionKey

NOW = time.time()


def redis_key(url: str, key: str) -> str:
    prefix = dict(parse_qsl(urlsplit(url).query))["prefix"]
    return f"{prefix}:s:{{{key}}}"


def good_fields() -> dict[str, bytes]:
    later = repr(NOW + 3600).encode()
    return {"m:c": repr(NOW).encode(), "m:l": repr(NOW).encode(), "m:e": later, "m:a": later}


REDIS_CORRUPTIONS: dict[str, dict[str, bytes]] = {
    "garbage-value": {**good_fields(), "d:cart": b"not json {"},
    "deadline-not-a-number": {**good_fields(), "m:e": b"soon"},
    "deadline-missing": {k: v for k, v in good_fields().items() if k != "m:a"},
    "user-not-utf8": {**good_fields(), "m:u": b"\xff\xfe"},
}


@pytest.fixture
async def redis_store(tmp_path: Path) -> AsyncIterator[tuple[AsyncStore, str]]:
    url = store_url("redis", tmp_path)
    store = open_async_store(url)
    yield store, url
    await store.close()


def corrupt_logs(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "corrupt" in r.getMessage()]


@pytest.mark.parametrize("corruption", list(REDIS_CORRUPTIONS))
async def test_redis_corrupt_record_is_logged_once_removed_and_no_session(
    redis_store: tuple[AsyncStore, str], corruption: str, caplog: pytest.LogCaptureFixture
) -> None:
    store, url = redis_store
    key = new_key()
    raw = redis.Redis.from_url(server_url("redis"))
    raw.hset(redis_key(url, key), mapping=REDIS_CORRUPTIONS[corruption])  # type: ignore[arg-type]
    with caplog.at_level(logging.WARNING, "websession.stores"):
        assert await store.load(key) is None
        assert await store.load(key) is None
    assert len(corrupt_logs(caplog)) == 1
    assert raw.exists(redis_key(url, key)) == 0
    raw.close()


async def test_redis_a_corrupt_record_does_not_hide_a_users_other_sessions(
    redis_store: tuple[AsyncStore, str],
) -> None:
    store, url = redis_store
    good, bad = new_key(), new_key()
    await store.create(good, make_record({"a": 1}, now=NOW, user_id="alice"))
    await store.create(bad, make_record({"a": 1}, now=NOW, user_id="alice"))
    raw = redis.Redis.from_url(server_url("redis"))
    raw.hset(redis_key(url, bad), "d:a", b"garbage")
    raw.close()
    found = await store.list_user("alice", NOW)  # type: ignore[attr-defined]
    assert [key for key, _ in found] == [good]


# -- PostgreSQL --------------------------------------------------------------------

PG_CORRUPTIONS = {"array": "[1, 2]", "string": '"text"', "json-null": "null", "number": "7"}


@pytest.fixture
async def pg_store(tmp_path: Path) -> AsyncIterator[tuple[AsyncStore, str]]:
    url = store_url("postgres", tmp_path)
    store = open_async_store(url)
    await store.setup()  # type: ignore[attr-defined]
    yield store, url
    await store.close()


def pg_insert(table: str, key: str, data: str, user: str | None = None) -> None:
    with psycopg.connect(server_url("postgres"), autocommit=True) as conn:
        conn.execute(
            f'INSERT INTO "{table}" VALUES (%s, %s::jsonb, %s, %s, %s, %s, %s)',  # noqa: S608 - a test table
            (key, data, NOW, NOW, NOW + 3600, NOW + 3600, user),
        )


def pg_count(table: str, key: str) -> int:
    with psycopg.connect(server_url("postgres"), autocommit=True) as conn:
        query = f'SELECT count(*) FROM "{table}" WHERE key = %s'  # noqa: S608 - a test table
        row = conn.execute(query, (key,)).fetchone()
        assert row is not None
        return int(row[0])


@pytest.mark.parametrize("corruption", list(PG_CORRUPTIONS))
async def test_postgres_corrupt_record_is_logged_once_removed_and_no_session(
    pg_store: tuple[AsyncStore, str], corruption: str, caplog: pytest.LogCaptureFixture
) -> None:
    store, url = pg_store
    table = parse_url(url).table
    key = new_key()
    pg_insert(table, key, PG_CORRUPTIONS[corruption], "alice")
    with caplog.at_level(logging.WARNING, "websession.stores"):
        assert await store.load(key) is None
        assert await store.load(key) is None
    assert len(corrupt_logs(caplog)) == 1
    assert pg_count(table, key) == 0


async def test_postgres_a_corrupt_row_does_not_hide_a_users_other_sessions(
    pg_store: tuple[AsyncStore, str],
) -> None:
    store, url = pg_store
    good = new_key()
    await store.create(good, make_record({"a": 1}, now=NOW, user_id="alice"))
    pg_insert(parse_url(url).table, new_key(), "[1]", "alice")
    found = await store.list_user("alice", NOW)  # type: ignore[attr-defined]
    assert [key for key, _ in found] == [good]


async def test_a_corrupt_record_answers_a_fresh_session_not_a_5xx(
    pg_store: tuple[AsyncStore, str],
) -> None:
    store, url = pg_store
    config = SessionConfig(secret="k" * 32, secure=False)

    async def read(request: Request) -> Response:
        return JSONResponse({"value": request.session.get("value")})

    app = SessionMiddleware(Starlette(routes=[Route("/read", read)]), store=store, config=config)
    token = new_token()
    pg_insert(parse_url(url).table, hash_token(token), '"garbage"')
    cookie = SessionEngine(config).cookie_value(token)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.get("/read", headers={"cookie": f"session={cookie}"})
    assert response.status_code == 200
    assert response.json() == {"value": None}
    assert pg_count(parse_url(url).table, SessionKey(hash_token(token))) == 0


@pytest.mark.parametrize("table", ["MySessions", "user", "order"])
async def test_postgres_a_mixed_case_or_reserved_table_name_works(table: str) -> None:
    url = f"{server_url('postgres')}{'&' if '?' in server_url('postgres') else '?'}table={table}"
    store = open_async_store(url)
    try:
        key = new_key()
        assert await store.create(key, make_record({"a": 1}, now=NOW))
        loaded = await store.load(key)
        assert loaded is not None
        assert loaded.data == {"a": 1}
    finally:
        await store.close()
        with psycopg.connect(server_url("postgres"), autocommit=True) as conn:
            conn.execute(f'DROP TABLE IF EXISTS "{table}"')


def test_postgres_url_values_pass_through_and_options_merge() -> None:
    options = parse_url(
        "postgresql://u@h/db?application_name=a+b%20c&options=-c%20search_path%3Dapp"
    )
    query = urlsplit(options.conninfo).query
    assert "+" not in query.replace("%2B", "")
    assert "application_name=a%2Bb%20c" in query
    merged = pool_settings(options)["kwargs"]["options"]
    assert merged.startswith("-c search_path=app ")
    assert "statement_timeout" in merged
