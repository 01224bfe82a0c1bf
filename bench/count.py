"""Store operations per request, counted where they happen, not assumed.

* Redis: a MONITOR connection lists every command the server ran, with ``[0 lua]`` for
  commands run inside a Lua script; ``INFO commandstats`` deltas cross-check the totals.
  Operations per request are the commands clients sent (round trips: a pipelined batch
  counts each command); script-inner commands are shown apart.
* PostgreSQL: statements counted at psycopg's cursors (there is no pg_stat_statements
  here, and ``pg_stat_database`` counters reach other sessions only when an idle
  backend flushes them, up to ten seconds later: too late to attribute to a case).
* SQLite: statements seen by ``sqlite3``'s trace callback on the store's connection.
* In-process stores (websession memory, starsessions memory): calls of the store's
  methods.
"""

from __future__ import annotations

import collections
import socket
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import redis

_IGNORED = {"info", "echo", "monitor", "ping", "client", "hello", "select", "script"}


@dataclass
class OpCount:
    """Operations per request of one (subject, case)."""

    per_request: float
    """Client operations (Redis commands, SQL transactions or statements, store calls)."""
    unit: str
    detail: str


Run = Callable[[], Awaitable[None]]


def _per(counts: dict[str, int], n: int) -> str:
    return ", ".join(f"{name} {value / n:g}" for name, value in sorted(counts.items())) or "none"


class RedisCounter:
    """Counts the commands a Redis server runs while ``count`` drives requests."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.address = (parts.hostname or "127.0.0.1", parts.port or 6379)
        self.client = redis.Redis(host=self.address[0], port=self.address[1])

    def _commandstats(self) -> dict[str, int]:
        stats: dict[str, Any] = self.client.info("commandstats")
        return {
            name.removeprefix("cmdstat_"): int(value["calls"])
            for name, value in stats.items()
            if name.removeprefix("cmdstat_").split("|")[0] not in _IGNORED
        }

    async def count(self, run: Run, n: int) -> OpCount:
        """Run ``run`` (``n`` requests) under MONITOR; commands per request."""
        before = self._commandstats()
        sentinel = f"bench-end-{uuid.uuid4().hex}"
        with socket.create_connection(self.address, timeout=10) as monitor:
            monitor.sendall(b"MONITOR\r\n")
            reader = monitor.makefile("rb")
            if reader.readline().strip() != b"+OK":
                raise RuntimeError("Redis refused MONITOR")
            await run()
            self.client.echo(sentinel)
            outer: collections.Counter[str] = collections.Counter()
            inner: collections.Counter[str] = collections.Counter()
            while True:
                line = reader.readline().decode("utf-8", "replace")
                if not line:
                    raise RuntimeError("MONITOR closed before the sentinel")
                if sentinel in line:
                    break
                source = line[line.index("[") + 1 : line.index("]")]
                command = line.split('"', 2)[1].lower()
                if command in _IGNORED:
                    continue
                (inner if source.endswith(" lua") else outer)[command] += 1
        after = self._commandstats()
        total = sum(after.values()) - sum(before.values())
        seen = sum(outer.values()) + sum(inner.values())
        if total != seen:
            raise RuntimeError(f"Redis commandstats counted {total} commands, MONITOR {seen}")
        detail = _per(dict(outer), n)
        if inner:
            detail += f" (inside scripts: {_per(dict(inner), n)})"
        return OpCount(sum(outer.values()) / n, "commands", detail)

    def close(self) -> None:
        """Close the observer's connection."""
        self.client.close()


class PostgresCounter:
    """Counts the statements psycopg sends, at the cursor (every ``execute`` is one round
    trip on an autocommit connection, so one statement is one transaction)."""

    async def count(self, run: Run, n: int) -> OpCount:
        """Run ``run`` (``n`` requests) with psycopg's cursors counting; per request."""
        import psycopg

        seen: collections.Counter[str] = collections.Counter()

        def first_word(cursor: Any, query: Any) -> str:
            text = query.as_string(cursor) if hasattr(query, "as_string") else str(query)
            return (text.split(None, 1) or ["?"])[0].upper()

        original_async = psycopg.AsyncCursor.execute
        original_sync = psycopg.Cursor.execute

        async def counted_async(self: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
            seen[first_word(self, query)] += 1
            return await original_async(self, query, *args, **kwargs)

        def counted_sync(self: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
            seen[first_word(self, query)] += 1
            return original_sync(self, query, *args, **kwargs)

        psycopg.AsyncCursor.execute = counted_async  # type: ignore[method-assign]
        psycopg.Cursor.execute = counted_sync  # type: ignore[method-assign]
        try:
            await run()
        finally:
            psycopg.AsyncCursor.execute = original_async  # type: ignore[method-assign]
            psycopg.Cursor.execute = original_sync  # type: ignore[method-assign]
        return OpCount(sum(seen.values()) / n, "statements", _per(dict(seen), n))


class MysqlCounter:
    """Counts the statements aiomysql and PyMySQL send, at the cursor (on an autocommit
    connection every ``execute`` is one round trip)."""

    async def count(self, run: Run, n: int) -> OpCount:
        """Run ``run`` (``n`` requests) with the drivers' cursors counting; per request."""
        import aiomysql
        import pymysql.cursors

        seen: collections.Counter[str] = collections.Counter()
        original_async = aiomysql.Cursor.execute
        original_sync = pymysql.cursors.Cursor.execute

        async def counted_async(self: Any, query: str, *args: Any, **kwargs: Any) -> Any:
            seen[(query.split(None, 1) or ["?"])[0].upper()] += 1
            return await original_async(self, query, *args, **kwargs)

        def counted_sync(self: Any, query: str, *args: Any, **kwargs: Any) -> Any:
            seen[(query.split(None, 1) or ["?"])[0].upper()] += 1
            return original_sync(self, query, *args, **kwargs)

        aiomysql.Cursor.execute = counted_async
        pymysql.cursors.Cursor.execute = counted_sync  # type: ignore[method-assign]
        try:
            await run()
        finally:
            aiomysql.Cursor.execute = original_async
            pymysql.cursors.Cursor.execute = original_sync  # type: ignore[method-assign]
        return OpCount(sum(seen.values()) / n, "statements", _per(dict(seen), n))


class SQLiteCounter:
    """Counts the statements SQLite runs on one connection."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection

    async def count(self, run: Run, n: int) -> OpCount:
        """Run ``run`` (``n`` requests) with a trace callback; statements per request."""
        seen: collections.Counter[str] = collections.Counter()

        def trace(statement: str) -> None:
            seen[statement.split(None, 1)[0].upper()] += 1

        self.connection.set_trace_callback(trace)
        try:
            await run()
        finally:
            self.connection.set_trace_callback(None)
        return OpCount(sum(seen.values()) / n, "statements", _per(dict(seen), n))


class CallCounter:
    """Counts calls of an in-process store's methods."""

    def __init__(self, target: Any, methods: tuple[str, ...]) -> None:
        self.target = target
        self.methods = methods

    async def count(self, run: Run, n: int) -> OpCount:
        """Run ``run`` (``n`` requests) with the methods wrapped; calls per request."""
        seen: collections.Counter[str] = collections.Counter()

        def wrap(name: str, method: Callable[..., Any]) -> Callable[..., Any]:
            def counted(*args: Any, **kwargs: Any) -> Any:
                seen[name] += 1
                return method(*args, **kwargs)

            return counted

        for name in self.methods:
            setattr(self.target, name, wrap(name, getattr(self.target, name)))
        try:
            await run()
        finally:
            for name in self.methods:
                delattr(self.target, name)
        return OpCount(sum(seen.values()) / n, "store calls", _per(dict(seen), n))


class NoStore:
    """For cookie sessions and bare apps: there is no store to ask."""

    async def count(self, run: Run, n: int) -> OpCount:
        """Run ``run``; zero operations."""
        await run()
        return OpCount(0.0, "", "no store")
