"""PostgreSQL driver errors as StoreErrors; messages never echo parameters."""

from __future__ import annotations

import psycopg
from psycopg_pool import PoolTimeout

from websession.errors import StoreError, StoreTimeout, StoreUnavailable

__all__ = ["DRIVER_ERRORS", "ConnectionLost", "store_error"]

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
    if isinstance(exc, psycopg.errors.UndefinedTable):
        return StoreError(
            f"the PostgreSQL {what} table does not exist: create it with "
            "`websession setup --store URL` (or drop ?setup=false from the URL)"
        )
    return StoreError(f"a PostgreSQL {what} statement failed")
