"""Encryption at rest against a thief: the raw contents of SQLite, PostgreSQL, MariaDB,
Redis and the file store, read directly (not through websession), hold none of a session's values;
and the dump plus the application secret still opens nothing without the cookie."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.conftest import store_url
from websession import SessionConfig, open_async_store
from websession.backends import AsyncStoreBackend
from websession.config import Secret
from websession.core.sealing import PREFIX, Sealer
from websession.core.tokens import hash_token
from websession.stores.base import AsyncIterating
from websession.types import Record, SessionKey

SECRET = "t" * 32
SEALED = SessionConfig(secret=SECRET, secure=False, encrypt_at_rest=True)
MARKS = ("card-4111-1111", "note-7c1fe2", "flash-a9d033", "cart-item-b0b0")


def dump_sqlite(url: str) -> str:
    path = url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as db:
        tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        rows = [repr(db.execute(f"SELECT * FROM {t}").fetchall()) for t in tables]  # noqa: S608
    db.close()
    return "\n".join(rows)


def dump_file(url: str) -> str:
    folder = Path(url.removeprefix("file://"))
    return "\n".join(
        p.read_bytes().decode("utf-8", "replace") for p in folder.rglob("*") if p.is_file()
    )


def dump_redis(url: str) -> str:
    import redis

    prefix = parse_qs(urlsplit(url).query)["prefix"][0]
    client = redis.Redis.from_url(url.split("?")[0], decode_responses=True)
    parts: list[str] = []
    try:
        for key in client.scan_iter(f"{prefix}*"):
            kind = client.type(key)
            if kind == "hash":
                parts.append(repr(client.hgetall(key)))
            elif kind == "string":
                parts.append(repr(client.get(key)))
            elif kind == "set":
                parts.append(repr(client.smembers(key)))
            elif kind == "zset":
                parts.append(repr(client.zrange(key, 0, -1, withscores=True)))
            else:
                parts.append(f"{key!r}: {kind!r}")
    finally:
        client.close()
    return "\n".join(parts)


def dump_postgres(url: str) -> str:
    import psycopg

    table = parse_qs(urlsplit(url).query)["table"][0]
    with psycopg.connect(url.split("?")[0]) as db:
        rows = db.execute(f"SELECT t::text FROM {table} t").fetchall()  # noqa: S608 - ours
    return "\n".join(row[0] for row in rows)


def dump_mysql(url: str) -> str:
    import pymysql

    from websession.stores.mysql import parse_url

    table = parse_qs(urlsplit(url).query)["table"][0]
    options = parse_url(url)
    db = pymysql.connect(
        host=options.host,
        port=options.port,
        user=options.user,
        password=options.password,
        database=options.database,
    )
    try:
        with db.cursor() as cursor:
            cursor.execute(f"SELECT * FROM `{table}`")  # noqa: S608 - the test's own table
            return "\n".join(repr(row) for row in cursor.fetchall())
    finally:
        db.close()


DUMPS: dict[str, Callable[[str], str]] = {
    "mysql": dump_mysql,
    "sqlite": dump_sqlite,
    "file": dump_file,
    "redis": dump_redis,
    "postgres": dump_postgres,
}


@dataclass
class Stored:
    url: str
    backend: AsyncStoreBackend
    cookie: str = ""

    def header(self) -> list[str]:
        return [f"{self.backend.config.cookie_name}={self.cookie}"]


@pytest.fixture(params=sorted(DUMPS))
def kind(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


async def use_a_session(url: str, config: SessionConfig) -> AsyncIterator[Stored]:
    """Create, patch and regenerate a session holding every mark; yield it stored."""
    backend = AsyncStoreBackend(open_async_store(url), config)
    stored = Stored(url, backend)
    try:
        session = await backend.open([])
        session["card"] = MARKS[0]
        session.user_id = "alice"
        cookie = await backend.save(session)
        assert cookie is not None
        stored.cookie = cookie.value
        session = await backend.open(stored.header())
        session["notes"] = {"text": MARKS[1]}
        session.flash(MARKS[2])
        session.regenerate()
        cookie = await backend.save(session)
        assert cookie is not None
        stored.cookie = cookie.value
        session = await backend.open(stored.header())
        session["cart"] = [MARKS[3]]
        assert await backend.save(session) is not None
        yield stored
    finally:
        await backend.close()


async def test_the_raw_store_holds_none_of_the_session_values(kind: str, tmp_path: Path) -> None:
    async for stored in use_a_session(store_url(kind, tmp_path), SEALED):
        dump = DUMPS[kind](stored.url)
        assert PREFIX in dump
        assert "alice" in dump  # the user binding stays readable
        assert not [mark for mark in MARKS if mark in dump]
        session = await stored.backend.open(stored.header())
        assert session["card"] == MARKS[0]
        assert session["cart"] == [MARKS[3]]


async def test_without_it_the_raw_store_holds_the_values(kind: str, tmp_path: Path) -> None:
    """The control: the same dump of a plain store shows every value."""
    plain = SEALED.replace(encrypt_at_rest=False)
    async for stored in use_a_session(store_url(kind, tmp_path), plain):
        dump = DUMPS[kind](stored.url)
        assert [mark for mark in MARKS if mark in dump] == list(MARKS)


async def every_record(url: str) -> list[tuple[SessionKey, Record]]:
    store = open_async_store(url)
    try:
        assert isinstance(store, AsyncIterating)
        found: list[tuple[SessionKey, Record]] = []
        cursor: str | None = None
        while True:
            page, cursor = await store.scan(cursor, 100)
            found += page
            if cursor is None:
                return found
    finally:
        await store.close()


async def test_a_dump_and_the_secret_open_nothing_without_the_cookie(
    kind: str, tmp_path: Path
) -> None:
    async for stored in use_a_session(store_url(kind, tmp_path), SEALED):
        records = await every_record(stored.url)
        # everything a thief holding the dump could try as the token
        text = DUMPS[kind](stored.url) + repr(records)
        guesses = set(re.findall(r"[A-Za-z0-9_\-]{16,}", text)) | {"alice", SECRET}
        sealer = Sealer([Secret(SECRET)])
        opened: list[Any] = []
        for key, record in records:
            for guess in guesses:
                opened.append(sealer.open_data(record.data, guess, key))
        assert all(set(data) <= {"_ws_device", "_ws_permanent"} for data in opened)
        token = stored.cookie.split(".")[0]
        key = hash_token(token)
        [mine] = [record for k, record in records if k == key]
        assert sealer.open_data(mine.data, token, key)["card"] == MARKS[0]
