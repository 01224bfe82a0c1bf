"""Raw floors: the cheapest a store can answer, measured in the same run.

Each floor is what a session library would have to do at the very least for one
request: a redis-py GET, a pipelined write (HSET + PEXPIREAT, one round trip), a psycopg
async SELECT by primary key and a patch UPDATE of the same shape as websession's, an
aiomysql SELECT by primary key, an SQLite SELECT by primary key. The async clients are
used where the ASGI middleware uses async clients.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

_KEY = "bench:floor:" + "a" * 64
_VALUE = orjson.dumps({"user": "alice", "n": 0})


@dataclass
class Floor:
    """One raw operation, timed as ``n`` calls in a row."""

    name: str
    call: Callable[[], Awaitable[Any]]
    closers: list[Callable[[], Any]] = field(default_factory=list)

    async def run(self, n: int) -> float:
        """Seconds for ``n`` calls."""
        call = self.call
        start = time.perf_counter()
        for _ in range(n):
            await call()
        return time.perf_counter() - start


SQLITE_SELECT = "sqlite3 SELECT by primary key"
SQLITE_UPDATE = "sqlite3 UPDATE by primary key (autocommit)"
MYSQL_SELECT = "aiomysql SELECT by primary key"
REDIS_GET = "redis-py asyncio GET"
REDIS_WRITE = "redis-py asyncio pipelined write (HSET+PEXPIREAT)"


async def redis_floors(url: str) -> list[Floor]:
    """A GET and a pipelined HSET + PEXPIREAT on redis.asyncio."""
    import redis.asyncio

    client = redis.asyncio.Redis.from_url(url)
    await client.set(_KEY, _VALUE)
    hash_key = _KEY + ":h"
    deadline = int(time.time() * 1000) + 3_600_000

    async def get() -> Any:
        value = await client.get(_KEY)
        if value != _VALUE:
            raise AssertionError("the Redis floor GET did not round-trip")
        return value

    async def write() -> Any:
        pipe = client.pipeline(transaction=False)
        pipe.hset(hash_key, "d:n", b"1")
        pipe.pexpireat(hash_key, deadline)
        return await pipe.execute()

    return [
        Floor(REDIS_GET, get, [client.aclose]),
        Floor(REDIS_WRITE, write),
    ]


PG_SELECT = "psycopg async SELECT by primary key"
PG_PATCH = "psycopg async patch UPDATE"
_PG_TABLE = (
    "CREATE TABLE IF NOT EXISTS bench_floor_sessions (key TEXT PRIMARY KEY, "
    "data JSONB NOT NULL, created_at DOUBLE PRECISION NOT NULL, "
    "last_seen DOUBLE PRECISION NOT NULL, expires_at DOUBLE PRECISION NOT NULL, "
    "absolute_expires_at DOUBLE PRECISION NOT NULL, user_id TEXT)"
)
_PG_COLUMNS = "data, created_at, last_seen, expires_at, absolute_expires_at, user_id"


async def postgres_floors(url: str) -> list[Floor]:
    """On one psycopg ``AsyncConnection`` (autocommit), a table of the same shape as
    websession's: a SELECT of the row's columns by primary key, and a patch UPDATE of
    the shape websession's store sends for a write (``data = (data - removed) || set``,
    the two deadlines, the user column kept)."""
    import psycopg

    conn = await psycopg.AsyncConnection.connect(url.split("?", 1)[0], autocommit=True)
    await conn.execute(_PG_TABLE)
    now = time.time()
    await conn.execute(
        f"INSERT INTO bench_floor_sessions (key, {_PG_COLUMNS}) "  # noqa: S608  # constants
        "VALUES (%s, %s::jsonb, %s, %s, %s, %s, NULL) ON CONFLICT (key) DO NOTHING",
        (_KEY, _VALUE.decode(), now, now, now + 3600, now + 86400),
    )
    select_sql = f"SELECT {_PG_COLUMNS} FROM bench_floor_sessions WHERE key = %s"  # noqa: S608
    patch_sql = (
        "UPDATE bench_floor_sessions SET data = (data - %s::text[]) || %s::jsonb, "
        "last_seen = %s, expires_at = %s, "
        "user_id = CASE WHEN %s THEN %s::text ELSE user_id END WHERE key = %s"
    )
    counter = iter(range(1, 1 << 62))

    async def select() -> Any:
        cursor = await conn.execute(select_sql, (_KEY,))
        row = await cursor.fetchone()
        if row is None:
            raise AssertionError("the PostgreSQL floor SELECT found nothing")
        return row

    async def patch() -> Any:
        stamp = time.time()
        params: tuple[Any, ...] = (
            [],
            f'{{"n": {next(counter)}}}',
            stamp,
            stamp + 3600,
            False,
            None,
            _KEY,
        )
        cursor = await conn.execute(patch_sql, params)
        if cursor.rowcount != 1:
            raise AssertionError("the PostgreSQL floor UPDATE changed no row")
        return cursor.rowcount

    return [Floor(PG_SELECT, select, [conn.close]), Floor(PG_PATCH, patch)]


async def mysql_floor(url: str) -> Floor:
    """An aiomysql SELECT by primary key on one autocommit connection."""
    import aiomysql

    from websession.stores.mysql import parse_url

    options = parse_url(url)
    conn = await aiomysql.connect(
        host=options.host,
        port=options.port,
        user=options.user,
        password=options.password,
        db=options.database,
        autocommit=True,
    )
    cursor = await conn.cursor()
    await cursor.execute(
        "CREATE TABLE IF NOT EXISTS bench_floor "
        "(`key` VARCHAR(255) PRIMARY KEY, data JSON NOT NULL)"
    )
    await cursor.execute("REPLACE INTO bench_floor VALUES (%s, %s)", (_KEY, _VALUE.decode()))

    async def select() -> Any:
        await cursor.execute("SELECT data FROM bench_floor WHERE `key` = %s", (_KEY,))
        row = await cursor.fetchone()
        if row is None:
            raise AssertionError("the MySQL floor SELECT found nothing")
        return row

    return Floor(MYSQL_SELECT, select, [conn.close])


def sqlite_floors(path: Path) -> list[Floor]:
    """An SQLite SELECT by primary key and an UPDATE of the same row to a new value, each
    committed on its own (WAL, synchronous=NORMAL, one connection, autocommit)."""
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")  # as websession's SQLite store
    db.execute("CREATE TABLE IF NOT EXISTS floor (key TEXT PRIMARY KEY, data BLOB) WITHOUT ROWID")
    db.execute("INSERT OR REPLACE INTO floor VALUES (?, ?)", (_KEY, _VALUE))

    async def select() -> Any:
        row = db.execute("SELECT data FROM floor WHERE key = ?", (_KEY,)).fetchone()
        if row is None:
            raise AssertionError("the SQLite floor SELECT found nothing")
        return row

    counter = iter(range(1, 1 << 62))

    async def write() -> Any:
        # A new value each time, as a session write: SQLite skips a write that leaves
        # the row's bytes as they were (no page is dirtied, the commit writes nothing).
        value = orjson.dumps({"user": "alice", "n": next(counter)})
        cursor = db.execute("UPDATE floor SET data = ? WHERE key = ?", (value, _KEY))
        if cursor.rowcount != 1:
            raise AssertionError("the SQLite floor UPDATE changed no row")
        return cursor.rowcount

    return [Floor(SQLITE_SELECT, select, [db.close]), Floor(SQLITE_UPDATE, write)]


async def batch_size(floor: Floor, target: float) -> int:
    """Calls per batch so that one batch takes about ``target`` seconds."""
    await floor.run(20)
    per_call = await floor.run(50) / 50
    return max(20, min(20000, round(target / per_call)))
