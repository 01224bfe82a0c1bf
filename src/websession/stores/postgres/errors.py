"""Driver errors as StoreErrors, and the pool settings shared by every PostgreSQL store
(sessions and users, sync and async)."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool, ConnectionPool, PoolTimeout

from websession.errors import StoreError, StoreTimeout, StoreUnavailable
from websession.stores.url import PostgresOptions

__all__ = ["DRIVER_ERRORS", "ConnectErrors", "ConnectionLost", "pool_settings", "store_error"]

DRIVER_ERRORS = (psycopg.Error, PoolTimeout)
"""What psycopg and its pool raise on a failure (mapped by ``store_error``)."""


class ConnectionLost(psycopg.OperationalError):
    """A statement failed because its pooled connection was dead (server restarted):
    the one case where the store sends the statement once more."""


def store_error(exc: BaseException, unreachable: bool, what: str) -> StoreError:
    """The StoreError for a driver error of the ``what`` store ("session store", "user
    store"); ``unreachable`` if connecting failed meanwhile. Messages never echo
    parameters."""
    if isinstance(exc, PoolTimeout):
        if unreachable:
            return StoreUnavailable(f"the PostgreSQL {what} is unreachable")
        return StoreTimeout("no PostgreSQL connection became free in time")
    if isinstance(exc, psycopg.errors.QueryCanceled):
        return StoreTimeout(f"a PostgreSQL {what} statement timed out")
    if isinstance(exc, psycopg.OperationalError):
        return StoreUnavailable(f"the PostgreSQL {what} is unreachable")
    return StoreError(f"a PostgreSQL {what} statement failed")


class ConnectErrors:
    """Tells whether a pool failed to connect since the last time it was asked: a wait
    for a connection that ends that way means the server is unreachable, not busy."""

    def __init__(self, pool: ConnectionPool[Any] | AsyncConnectionPool[Any]) -> None:
        self._pool = pool
        self._seen = 0

    def since_last_asked(self) -> bool:
        """True if the pool failed to connect since the last call."""
        errors = self._pool.get_stats().get("connections_errors", 0)
        seen, self._seen = self._seen, errors
        return errors > seen


def pool_settings(options: PostgresOptions) -> dict[str, Any]:
    """Pool arguments shared by the sync and async pools."""
    statement_ms = max(1, round(options.timeout * 1000))
    return {
        "min_size": 1,
        "max_size": options.max_connections,
        "timeout": options.timeout,
        # give up a failed (re)connection quickly: the next request starts a new one,
        # so service resumes soon after the server is back
        "reconnect_timeout": options.timeout,
        "kwargs": {"autocommit": True, "options": f"-c statement_timeout={statement_ms}"},
        "open": False,
        "name": f"websession-{options.table}",
    }
