# Generated from ../_async/pool.py by scripts/generate_sync.py: do not edit.
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

from websession.stores.mysql.compat import (
    Connection,
    Semaphore,
    acquire,
    connect,
    server_version,
)
from websession.stores.mysql.errors import PoolTimeout
from websession.stores.mysql.options import MysqlOptions

__all__ = ["Pool"]


class Pool:
    """Connections to one server, at most ``options.max_connections`` at a time."""

    def __init__(self, options: MysqlOptions) -> None:
        self.options = options
        self.unreachable = False
        """True while the last attempt to connect failed."""
        self._slots = Semaphore(options.max_connections)
        self._idle: list[Connection] = []
        self._closed = False

    def take(self) -> tuple[Connection, bool]:
        """A connection and whether it was used before (an idle one); PoolTimeout if
        none frees in time. Every ``take`` is followed by ``give_back`` or ``failed``."""
        if not acquire(self._slots, self.options.timeout):
            raise PoolTimeout("no connection became free in time")
        try:
            if self._idle:
                return self._idle.pop(), True
            return self._connect(), False
        except BaseException:
            self._slots.release()
            raise

    def give_back(self, conn: Connection) -> None:
        """Keep a connection whose operation succeeded, for the next one."""
        if self._closed:
            _discard(conn)
        else:
            self._idle.append(conn)
        self._slots.release()

    def failed(self, conn: Connection) -> None:
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

    def _connect(self) -> Connection:
        try:
            conn = connect(self.options)
        except BaseException:
            self.unreachable = True
            raise
        self.unreachable = False
        try:
            cursor = conn.cursor()
            for statement in self.options.session_settings(server_version(conn)):
                cursor.execute(statement)
        except BaseException:
            _discard(conn)
            raise
        return conn


def _discard(conn: Connection) -> None:
    """Close ``conn`` without a word to the server: it may be dead or mid-statement."""
    with contextlib.suppress(Exception):
        conn.close()
