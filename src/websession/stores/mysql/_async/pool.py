"""A small connection pool for one MySQL store (the async source; ``_sync/pool.py``
is generated from it).

At most ``max_connections`` connections are in use at once (a semaphore; a wait for a
free one is bounded by the store's timeout). A connection handed back after a
successful operation is kept idle and handed straight to the next operation (no
checkout cost, no ping); one whose operation failed or was cancelled is closed, so a
connection left mid-statement or mid-transaction is never reused. A dead idle
connection (the server restarted) shows on its next statement; the caller then calls
``reset``, which closes every idle connection, and tries once more.
"""

from __future__ import annotations

import contextlib

from websession.stores.mysql.async_compat import (
    AsyncConnection,
    AsyncSemaphore,
    acquire_async,
    connect_async,
    server_version,
)
from websession.stores.mysql.errors import PoolTimeout
from websession.stores.mysql.options import MysqlOptions

__all__ = ["AsyncPool"]


class AsyncPool:
    """Connections to one server, at most ``options.max_connections`` at a time."""

    def __init__(self, options: MysqlOptions) -> None:
        self.options = options
        self.unreachable = False
        """True while the last attempt to connect failed."""
        self._slots = AsyncSemaphore(options.max_connections)
        self._idle: list[AsyncConnection] = []
        self._closed = False

    async def take(self) -> tuple[AsyncConnection, bool]:
        """A connection and whether it was used before (an idle one); PoolTimeout if
        none frees in time. Every ``take`` is followed by ``give_back`` or ``failed``."""
        if not await acquire_async(self._slots, self.options.timeout):
            raise PoolTimeout("no connection became free in time")
        try:
            if self._idle:
                return self._idle.pop(), True
            return await self._connect(), False
        except BaseException:
            self._slots.release()
            raise

    def give_back(self, conn: AsyncConnection) -> None:
        """Keep a connection whose operation succeeded, for the next one."""
        if self._closed:
            _discard(conn)
        else:
            self._idle.append(conn)
        self._slots.release()

    def failed(self, conn: AsyncConnection) -> None:
        """Close a connection whose operation failed or was cancelled."""
        _discard(conn)
        self._slots.release()

    def reset(self) -> None:
        """After a dead connection: close the idle ones (they died with it)."""
        idle, self._idle = self._idle, []
        for conn in idle:
            _discard(conn)

    def close(self) -> None:
        """Close the idle connections; those in use close when handed back."""
        self._closed = True
        self.reset()

    async def _connect(self) -> AsyncConnection:
        try:
            conn = await connect_async(self.options)
        except BaseException:
            self.unreachable = True
            raise
        self.unreachable = False
        try:
            cursor = await conn.cursor()
            for statement in self.options.session_settings(server_version(conn)):
                await cursor.execute(statement)
        except BaseException:
            _discard(conn)
            raise
        return conn


def _discard(conn: AsyncConnection) -> None:
    """Close ``conn`` without a word to the server: it may be dead or mid-statement."""
    with contextlib.suppress(Exception):
        conn.close()
