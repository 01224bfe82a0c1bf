"""Raw floors: the cheapest a store can answer, measured in the same run.

Each floor is what a session library would have to do at the very least for one
request: a redis-py GET, a pipelined write (HSET + PEXPIREAT, one round trip), a psycopg
SELECT by primary key, an aiomysql SELECT by primary key, an SQLite SELECT by primary
key. The async clients are used where
the ASGI middleware uses async clients.
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
        Floor("redis-py GET", get, [client.aclose]),
        Floor("redis-py pipelined write (HSET+PEXPIREAT)", write),
    ]


async def postgres_floor(url: str) -> Floor:
    """A psycopg SELECT by primary key on one async autocommit connection."""
    import psycopg

    conn = await psycopg.AsyncConnection.connect(url.split("?", 1)[0], autocommit=True)
    await conn.execute(
        "CREATE TABLE IF NOT EXISTS bench_floor (key text PRIMARY KEY, data jsonb NOT NULL)"
    )
    await conn.execute(
        "INSERT INTO bench_floor VALUES (%s, %s) ON CONFLICT (key) DO NOTHING",
        (_KEY, _VALUE.decode()),
    )

    async def select() -> Any:
        cursor = await conn.execute("SELECT data FROM bench_floor WHERE key = %s", (_KEY,))
        row = await cursor.fetchone()
        if row is None:
            raise AssertionError("the PostgreSQL floor SELECT found nothing")
        return row

    return Floor("psycopg SELECT by primary key", select, [conn.close])


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

    return Floor("aiomysql SELECT by primary key", select, [conn.close])


def sqlite_floor(path: Path) -> Floor:
    """An SQLite SELECT by primary key (WAL, one connection)."""
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE IF NOT EXISTS floor (key TEXT PRIMARY KEY, data BLOB) WITHOUT ROWID")
    db.execute("INSERT OR REPLACE INTO floor VALUES (?, ?)", (_KEY, _VALUE))

    async def select() -> Any:
        row = db.execute("SELECT data FROM floor WHERE key = ?", (_KEY,)).fetchone()
        if row is None:
            raise AssertionError("the SQLite floor SELECT found nothing")
        return row

    return Floor("sqlite3 SELECT by primary key", select, [db.close])


async def batch_size(floor: Floor, target: float) -> int:
    """Calls per batch so that one batch takes about ``target`` seconds."""
    await floor.run(20)
    per_call = await floor.run(50) / 50
    return max(20, min(20000, round(target / per_call)))
