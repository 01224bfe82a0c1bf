"""How the sync PostgreSQL stores borrow connections: straight from the pool.

The sync face of ``async_lease.AsyncLease`` (the generated sync code calls the same
methods): nothing is held between operations, and the pool itself bounds the wait for
a free connection by the store's timeout. getconn/putconn rather than
``pool.connection()``: the latter also enters the connection's own context (a commit,
a no-op in autocommit) and keeps statistics. putconn closes a connection left
mid-statement or broken, and the pool replaces it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

import psycopg
from psycopg.pq import TransactionStatus
from psycopg_pool import ConnectionPool

__all__ = ["Lease", "Lock", "Work"]

Lock = threading.Lock
"""The lock the sync stores use (``asyncio.Lock`` on the async side)."""

T = TypeVar("T")

IDLE = TransactionStatus.IDLE

Connection = psycopg.Connection[Any]

Work = Callable[[Connection], T]
"""An operation on a borrowed connection (``AsyncWork`` on the async side)."""


class Lease:
    """Lends the connections of one sync pool."""

    def __init__(self, pool: ConnectionPool[Any], size: int) -> None:
        self._pool = pool

    def take(self, timeout: float) -> Connection:
        """A connection from the pool; PoolTimeout if none frees within ``timeout``."""
        conn: Connection = self._pool.getconn(timeout)
        return conn

    def give_back(self, conn: Connection) -> None:
        """Return a connection after a successful operation."""
        self._pool.putconn(conn)

    def failed(self, conn: Connection) -> None:
        """Return a connection whose operation failed: closed first if it was left
        mid-statement (the pool then replaces it)."""
        if conn.info.transaction_status != IDLE:
            conn.close()
        self._pool.putconn(conn)

    def reset(self) -> None:
        """After a dead connection: have the pool check its idle connections."""
        self._pool.check()

    def close(self) -> None:
        """Nothing is held."""
