"""One PostgreSQL table's connections, for the session store and the user store.

A database object runs one statement per operation on a borrowed autocommit connection
(one round trip), with a cursor made once per connection. Nothing connects until the
first operation, so an app starts while PostgreSQL is down and answers 503 until it is
back. The schema is created on first use (unless ``setup=false``), under an advisory
lock so that workers starting together do not race. A statement that fails because
its pooled connection was dead (server restarted) makes the pool check its idle
connections and is sent once more: every operation of the stores can be repeated
safely. Failures are StoreErrors chained from the driver's error.

The store's ``timeout`` bounds an operation from the client side, whatever the server
does: the wait for a pooled connection (the pool connects in the background, within
``connect_timeout``) and then the statement, whose socket an alarm shuts at the
deadline (``async_deadline``/``deadline``: a frozen server or a half-open link). The
deadline is ``timeout`` plus ``GRACE``, so that the server's own ``statement_timeout``
(a clean "statement timed out", the connection kept) ends a slow statement first.
While the server is unreachable, operations fail at once (``health.Health``).

The async source; ``_sync/database.py`` is generated from it.
"""

from __future__ import annotations

from collections.abc import Sequence
from time import monotonic
from typing import Any, LiteralString, TypeVar
from weakref import WeakKeyDictionary

import orjson
import psycopg
from psycopg import sql
from psycopg.types.json import set_json_loads
from psycopg_pool import AsyncConnectionPool

from websession.stores.postgres._async.connections import async_reporting
from websession.stores.postgres.async_deadline import AsyncAlarm
from websession.stores.postgres.async_lease import AsyncLease, AsyncLock, AsyncWork
from websession.stores.postgres.errors import DRIVER_ERRORS, ConnectionLost
from websession.stores.postgres.health import DeadlineExpired, Health, quiet_pool_warnings
from websession.stores.postgres.pool import grace, pool_settings
from websession.stores.url import PostgresOptions

__all__ = ["AsyncDatabase"]

T = TypeVar("T")


async def _configure(conn: psycopg.AsyncConnection[Any]) -> None:
    set_json_loads(orjson.loads, conn)


class AsyncDatabase:
    """Connections to one table: ``what`` names the store in error messages."""

    def __init__(
        self,
        options: PostgresOptions,
        *,
        schema: Sequence[sql.SQL | sql.Composed],
        lock_key: str,
        what: str,
    ) -> None:
        self.options = options
        self._schema = schema
        self._lock_key = lock_key
        self._what = what
        self.health = Health(what, options.host, options.timeout)
        quiet_pool_warnings()
        self.pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
            options.conninfo,
            connection_class=async_reporting(self.health),
            configure=_configure,
            **pool_settings(options),
        )
        self.lease = AsyncLease(self.pool, options.max_connections)
        self._grace = grace(options.timeout)
        self._limit = options.timeout + self._grace
        self._running: set[AsyncAlarm] = set()  # the statements under way
        self._cursors: WeakKeyDictionary[psycopg.AsyncConnection[Any], psycopg.AsyncCursor[Any]]
        self._cursors = WeakKeyDictionary()
        self._lock = AsyncLock()
        self._setup_lock = AsyncLock()
        self._open = False
        self._ready = not options.setup

    async def fetchone(self, query: LiteralString, params: Sequence[Any]) -> Any:
        """The first row of ``query``, or None."""

        async def run(conn: psycopg.AsyncConnection[Any]) -> Any:
            cursor = self._cursor(conn)
            await cursor.execute(query, params)
            return await cursor.fetchone()

        return await self.run(run)

    async def fetchall(self, query: LiteralString, params: Sequence[Any]) -> list[Any]:
        """Every row of ``query``."""

        async def run(conn: psycopg.AsyncConnection[Any]) -> list[Any]:
            cursor = self._cursor(conn)
            await cursor.execute(query, params)
            return await cursor.fetchall()

        return await self.run(run)

    async def rowcount(self, query: LiteralString, params: Sequence[Any]) -> int:
        """How many rows ``query`` changed."""

        async def run(conn: psycopg.AsyncConnection[Any]) -> int:
            cursor = self._cursor(conn)
            await cursor.execute(query, params)
            return cursor.rowcount

        return await self.run(run)

    async def run(self, work: AsyncWork[T]) -> T:
        """Run ``work`` on a borrowed connection (the schema made first if needed),
        within the store's deadline."""
        self.health.admit()
        deadline = monotonic() + self._limit
        try:
            if not self._ready:
                await self._prepare(deadline)
            result = await self._with_retry(work, deadline)
        except DRIVER_ERRORS as exc:
            raise self.health.error(_cause(exc), stuck=self._stuck()) from _cause(exc)
        self.health.answered()
        return result

    async def setup(self) -> None:
        """Create the table and its indexes if they are missing (idempotent)."""
        try:
            await self._prepare(monotonic() + self._limit, again=True)
        except DRIVER_ERRORS as exc:
            raise self.health.error(_cause(exc)) from _cause(exc)

    async def close(self) -> None:
        """Hand back held connections and close the pool."""
        await self.lease.close()
        await self.pool.close()

    def _stuck(self) -> bool:
        """True if a statement still waits past the timeout: the server's own
        ``statement_timeout`` would have ended it, so the server does not answer."""
        now = monotonic()
        return any(alarm.deadline - now < self._grace for alarm in list(self._running))

    async def _with_retry(self, work: AsyncWork[T], deadline: float) -> T:
        try:
            return await self._attempt(work, deadline)
        except ConnectionLost:
            await self.lease.reset()  # drop the other dead connections, then once more
            return await self._attempt(work, deadline)

    async def _attempt(self, work: AsyncWork[T], deadline: float) -> T:
        if not self._open:
            async with self._lock:
                if not self._open:
                    await self.pool.open(wait=False)
                    self._open = True
        wait = min(self.options.timeout, deadline - monotonic())
        conn = await self.lease.take(max(wait, 0.001))
        alarm = AsyncAlarm(conn, deadline)
        self._running.add(alarm)
        try:
            result = await work(conn)
        except BaseException as exc:
            self._running.discard(alarm)
            expired = alarm.disarm()
            await self.lease.failed(conn)
            if expired:
                raise DeadlineExpired("no answer within the timeout") from exc
            if isinstance(exc, psycopg.OperationalError) and conn.broken:
                raise ConnectionLost("the pooled connection was dead") from exc
            raise
        self._running.discard(alarm)
        if alarm.disarm():  # the answer came as the alarm shut the socket
            await self.lease.failed(conn)
        else:
            await self.lease.give_back(conn)
        return result

    def _cursor(self, conn: psycopg.AsyncConnection[Any]) -> psycopg.AsyncCursor[Any]:
        """The connection's cursor, made once: a new cursor per statement costs more."""
        cursor = self._cursors.get(conn)
        if cursor is None or cursor.closed:
            cursor = self._cursors[conn] = conn.cursor()
        return cursor

    async def _prepare(self, deadline: float, *, again: bool = False) -> None:
        async with self._setup_lock:
            if again or not self._ready:
                await self._with_retry(self._create_schema, deadline)
                self._ready = True

    async def _create_schema(self, conn: psycopg.AsyncConnection[Any]) -> None:
        async with conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (self._lock_key,))
            for statement in self._schema:
                await conn.execute(statement)


def _cause(exc: BaseException) -> BaseException:
    """The driver's own error behind a ``ConnectionLost``, else ``exc`` (a
    ``DeadlineExpired`` is kept: it tells why the connection broke)."""
    if isinstance(exc, ConnectionLost) and exc.__cause__ is not None:
        return exc.__cause__
    return exc
