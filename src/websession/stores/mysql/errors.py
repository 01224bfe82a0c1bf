"""MySQL / MariaDB driver errors as StoreErrors; messages never echo parameters.

Both drivers raise PyMySQL's error classes (aiomysql is built on PyMySQL's protocol
code), so one mapping serves the sync and the async store.
"""

from __future__ import annotations

from pymysql import err

from websession.errors import StoreError, StoreTimeout, StoreUnavailable

__all__ = ["DRIVER_ERRORS", "ConnectionLost", "PoolTimeout", "is_lost", "store_error"]


class PoolTimeout(Exception):
    """No pooled connection became free within the store's timeout."""


class ConnectionLost(err.OperationalError):
    """A statement failed because its pooled connection was dead (server restarted):
    the one case where the store sends the statement once more."""


DRIVER_ERRORS = (err.Error, PoolTimeout, TimeoutError)
"""What the drivers and the pool raise on a failure (mapped by ``store_error``)."""

# server gone away, lost connection, server shutdown, connection killed, MySQL's
# "disconnected by the server because of inactivity"
_LOST = frozenset({2006, 2013, 2055, 1053, 1927, 4031})
# MariaDB max_statement_time, MySQL max_execution_time, lock wait timeout, interrupted
_TIMED_OUT = frozenset({1969, 3024, 1205, 1317})


def _code(exc: BaseException) -> int | None:
    code = exc.args[0] if exc.args else None
    return code if isinstance(code, int) else None


def is_lost(exc: BaseException) -> bool:
    """True if ``exc`` says the connection is dead (its statement may be sent again)."""
    if isinstance(exc, err.InterfaceError):
        return True
    return isinstance(exc, err.OperationalError) and _code(exc) in _LOST


def store_error(exc: BaseException, unreachable: bool, what: str) -> StoreError:
    """The StoreError for a driver error of the ``what`` store; ``unreachable`` if the
    last attempt to connect failed. Messages never echo parameters."""
    if isinstance(exc, PoolTimeout):
        if unreachable:
            return StoreUnavailable(f"the MySQL {what} is unreachable")
        return StoreTimeout("no MySQL connection became free in time")
    if isinstance(exc, TimeoutError) or _code(exc) in _TIMED_OUT:
        return StoreTimeout(f"a MySQL {what} statement timed out")
    if isinstance(exc, err.OperationalError | err.InterfaceError):
        return StoreUnavailable(f"the MySQL {what} is unreachable")
    return StoreError(f"a MySQL {what} statement failed")
