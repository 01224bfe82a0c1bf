"""One MySQL table's connections, for the session store.

Each operation runs on a pooled autocommit connection (``AsyncPool``). Nothing
connects until the first operation, so an app starts while the server is down and
answers 503 until it is back. The schema is created on first use (unless
``setup=false``), under a named lock (``GET_LOCK``) so that workers starting together
do not race. A statement that fails because its idle connection was dead (server
restarted) closes the other idle connections and is sent once more: every operation of
the store can be repeated safely. Failures are StoreErrors chained from the driver's
error.

The async source; ``_sync/database.py`` is generated from it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from websession.errors import StoreError
from websession.stores.mysql._async.pool import AsyncPool
from websession.stores.mysql.async_compat import AsyncConnection, AsyncWork, deadline_async
from websession.stores.mysql.errors import DRIVER_ERRORS, ConnectionLost, is_lost, store_error
from websession.stores.mysql.options import MysqlOptions

__all__ = ["AsyncDatabase"]

T = TypeVar("T")


class AsyncDatabase:
    """Connections to one table: ``what`` names the store in error messages."""

    def __init__(
        self, options: MysqlOptions, *, schema: Sequence[str], lock_name: str, what: str
    ) -> None:
        self.options = options
        self.pool = AsyncPool(options)
        self._schema = schema
        self._lock_name = lock_name
        self._what = what
        self._ready = not options.setup
        # a client-side bound a little past the server's own statement limit
        self._deadline = options.timeout * 2 + options.connect_timeout + 1

    async def fetchone(self, query: str, params: Sequence[Any]) -> Any:
        """The first row of ``query``, or None."""

        async def run(conn: AsyncConnection) -> Any:
            cursor = await conn.cursor()
            await cursor.execute(query, params)
            return await cursor.fetchone()

        return await self.run(run)

    async def fetchall(self, query: str, params: Sequence[Any]) -> list[Any]:
        """Every row of ``query``."""

        async def run(conn: AsyncConnection) -> list[Any]:
            cursor = await conn.cursor()
            await cursor.execute(query, params)
            return list(await cursor.fetchall())

        return await self.run(run)

    async def rowcount(self, query: str, params: Sequence[Any]) -> int:
        """How many rows ``query`` matched."""

        async def run(conn: AsyncConnection) -> int:
            cursor = await conn.cursor()
            count: int = await cursor.execute(query, params)
            return count

        return await self.run(run)

    async def run(self, work: AsyncWork[T]) -> T:
        """Run ``work`` on a borrowed connection (the schema made first if needed)."""
        try:
            if not self._ready:
                await self._with_retry(self._create_schema)
                self._ready = True
            return await self._with_retry(work)
        except DRIVER_ERRORS as exc:
            cause = _cause(exc)
            raise self._error(cause) from cause

    async def setup(self) -> None:
        """Create the table and its indexes if they are missing (idempotent)."""
        try:
            await self._with_retry(self._create_schema)
        except DRIVER_ERRORS as exc:
            cause = _cause(exc)
            raise self._error(cause) from cause
        self._ready = True

    async def close(self) -> None:
        """Close the pooled connections."""
        self.pool.close()

    def _error(self, exc: BaseException) -> StoreError:
        return store_error(exc, self.pool.unreachable, self._what)

    async def _with_retry(self, work: AsyncWork[T]) -> T:
        try:
            return await self._attempt(work)
        except ConnectionLost:
            self.pool.reset()  # the other idle connections died too: once more, afresh
            return await self._attempt(work)

    async def _attempt(self, work: AsyncWork[T]) -> T:
        conn, reused = await self.pool.take()
        try:
            async with deadline_async(self._deadline):
                result = await work(conn)
        except BaseException as exc:
            self.pool.failed(conn)
            if reused and is_lost(exc):
                raise ConnectionLost("the pooled connection was dead") from exc
            raise
        self.pool.give_back(conn)
        return result

    async def _create_schema(self, conn: AsyncConnection) -> None:
        cursor = await conn.cursor()
        wait = max(1, round(self.options.timeout))
        await cursor.execute("SELECT GET_LOCK(%s, %s)", (self._lock_name, wait))
        try:
            for statement in self._schema:
                await cursor.execute(statement)
        finally:
            await cursor.execute("SELECT RELEASE_LOCK(%s)", (self._lock_name,))


def _cause(exc: BaseException) -> BaseException:
    """The driver's own error behind a ``ConnectionLost``, else ``exc``."""
    if isinstance(exc, ConnectionLost) and exc.__cause__ is not None:
        return exc.__cause__
    return exc
