"""Whether a PostgreSQL server answers, shared by the threads or tasks of one store.

Every connection attempt of the pool reports here (``connecting``, then
``connect_failed`` or ``connected``, through the connection class of
``_async/connections.py``), and so does every statement cut off by the store's deadline
(``DeadlineExpired``), each with its own timestamp, so the question "is the server
unreachable?" has one answer for every caller at once: the last connection attempt
failed, or one has been under way for longer than half the timeout, or a statement got
no answer within the last two timeouts or still waits past the timeout (the server's
own ``statement_timeout`` would have ended it: a frozen server accepts connections but
never answers). A wait for a pooled connection that ends in a timeout then reads as
"unreachable" to every caller during an outage, and as "no connection became free"
only while the server does answer (a statement of this store got its answer within
the last two timeouts and none waits past the timeout: a pool too small for the load).

While the server is unreachable the store answers at once (a fast 503) rather than
have every request wait out its timeout: a short window (``WINDOW``) after each
failed request, then one request probes the pool again; the first connection made
closes the window. The outage is logged once per ``LOG_INTERVAL``, with how many
requests failed meanwhile, and psycopg_pool's own warnings (one per connection
attempt) are let through once per interval too.
"""

from __future__ import annotations

import logging
import threading
from time import monotonic

import psycopg
from psycopg_pool import PoolTimeout

from websession.errors import StoreError, StoreTimeout, StoreUnavailable
from websession.stores.postgres.errors import store_error
from websession.throttling import ThrottledLog

__all__ = ["LOG_INTERVAL", "WINDOW", "DeadlineExpired", "Health", "quiet_pool_warnings"]

WINDOW = 0.5
"""Seconds a failed request keeps the next ones from waiting on an unreachable server."""

LOG_INTERVAL = 10.0
"""Seconds between two log lines about one outage."""

logger = logging.getLogger("websession.stores.postgres")


class DeadlineExpired(psycopg.OperationalError):
    """The store's deadline shut a connection that had not answered in time."""


class Health:
    """What the connection attempts of one pool tell about its server (thread-safe)."""

    def __init__(self, what: str, host: str, timeout: float) -> None:
        self._what = what
        self._host = host
        self._timeout = timeout
        self._lock = threading.Lock()
        self._failed_at = 0.0
        self._connected_at = 0.0
        self._silent_at = -timeout * 10  # the last statement cut off by the deadline
        self._pending = 0  # connection attempts under way
        self._pending_since = 0.0
        self._answered_at = -timeout * 10  # the last statement that got an answer
        self._cause: BaseException | None = None
        self._open_until = 0.0  # while now is before it: fail fast (0: closed)
        self._logs = ThrottledLog(logger, LOG_INTERVAL)

    @property
    def unreachable(self) -> bool:
        """True if the last connection attempt failed, one has been under way for
        longer than half the timeout, or a statement got no answer in the last two
        timeouts."""
        now = monotonic()
        return (
            self._failed_at > self._connected_at
            or (self._pending > 0 and now - self._pending_since > self._timeout / 2)
            or now - self._silent_at < 2 * self._timeout
        )

    def connecting(self) -> None:
        """A connection attempt starts."""
        with self._lock:
            if not self._pending:
                self._pending_since = monotonic()
            self._pending += 1

    def connect_failed(self, exc: BaseException) -> None:
        """A connection attempt failed with ``exc``."""
        with self._lock:
            self._failed_at = self._pending_since = monotonic()
            self._pending = max(0, self._pending - 1)
            self._cause = exc

    def connect_abandoned(self) -> None:
        """A connection attempt ended without an answer either way (cancelled)."""
        with self._lock:
            self._pending = max(0, self._pending - 1)

    def connected(self) -> None:
        """A connection attempt succeeded: the server answers again."""
        with self._lock:
            self._connected_at = self._pending_since = monotonic()
            self._pending = max(0, self._pending - 1)
            self._silent_at = -self._timeout * 10
            was_open, self._open_until = self._open_until, 0.0
        if was_open:
            logger.warning("the PostgreSQL %s at %s answers again", self._what, self._host)

    def admit(self) -> None:
        """Raise StoreUnavailable at once while the server is known to be unreachable;
        after ``WINDOW``, let one caller through to probe it (the others still fail
        fast until that caller is done)."""
        if not self._open_until:  # the common case, without the lock
            return
        with self._lock:
            now = monotonic()
            if not self._open_until:
                return
            if now >= self._open_until:  # this caller probes
                self._open_until = now + self._timeout + WINDOW
                return
            cause = self._cause
        self._logs.count("unreachable")
        raise StoreUnavailable(f"the PostgreSQL {self._what} is unreachable") from cause

    def answered(self) -> None:
        """A statement got its answer: the server answers (stop failing fast)."""
        self._answered_at = monotonic()
        if self._open_until:
            with self._lock:
                self._open_until = 0.0

    def error(self, exc: BaseException, *, stuck: bool = False) -> StoreError:
        """The StoreError for a driver error, logged once per interval, and the window
        of fast failures opened if the server is unreachable (or ``stuck``: a statement
        still waits past the timeout)."""
        if isinstance(exc, DeadlineExpired):
            with self._lock:
                self._silent_at = monotonic()
                self._cause = exc
            self._logs.once(
                "deadline",
                logging.ERROR,
                "the PostgreSQL %s at %s did not answer within %ss (frozen, overloaded "
                "or cut off): the connection was closed",
                self._what,
                self._host,
                self._timeout,
            )
            return StoreTimeout(f"the PostgreSQL {self._what} did not answer in time")
        if isinstance(exc, psycopg.errors.QueryCanceled):  # statement_timeout: an answer
            self._answered_at = monotonic()
            return store_error(exc, False, self._what)
        silent = monotonic() - self._answered_at > 2 * self._timeout
        unreachable = (stuck or silent or self.unreachable) and isinstance(
            exc, PoolTimeout | psycopg.OperationalError
        )
        if unreachable:
            with self._lock:
                self._open_until = monotonic() + WINDOW
                if self._cause is None or not self.unreachable:
                    self._cause = DeadlineExpired("no statement got an answer in time")
            self._logs.once(
                "unreachable",
                logging.ERROR,
                "the PostgreSQL %s at %s is unreachable (%s): answering 503 at once, "
                "trying again every %ss",
                self._what,
                self._host,
                self._cause,
                WINDOW,
            )
        elif isinstance(exc, PoolTimeout):
            self._logs.once(
                "busy",
                logging.ERROR,
                "no PostgreSQL connection became free within %ss: the pool of the %s "
                "(max_connections) is too small for the load",
                self._timeout,
                self._what,
            )
        return store_error(exc, unreachable, self._what)


class _QuietPool(logging.Filter):
    """Lets each kind of psycopg_pool warning through once per ``LOG_INTERVAL``."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._last: dict[object, float] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        now = monotonic()
        with self._lock:
            if now - self._last.get(record.msg, -LOG_INTERVAL) < LOG_INTERVAL:
                return False
            self._last[record.msg] = now
        return True


_QUIET = _QuietPool()


def quiet_pool_warnings() -> None:
    """Rate-limit psycopg_pool's warnings (one per connection attempt during an outage)."""
    pool_logger = logging.getLogger("psycopg.pool")
    if _QUIET not in pool_logger.filters:
        pool_logger.addFilter(_QUIET)
