# Generated from ../_async/database.py by scripts/generate_sync.py: do not edit.
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
from websession.stores.mysql._sync.pool import Pool
from websession.stores.mysql.compat import Connection, Work, deadline
from websession.stores.mysql.errors import DRIVER_ERRORS, ConnectionLost, is_lost, store_error
from websession.stores.mysql.options import MysqlOptions

__all__ = ["Database"]

T = TypeVar("T")


class Database:
    """Connections to one table: ``what`` names the store in error messages."""

    def __init__(
        self, options: MysqlOptions, *, schema: Sequence[str], lock_name: str, what: str
    ) -> None:
        self.options = options
        self.pool = Pool(options)
        self._schema = schema
        self._lock_name = lock_name
        self._what = what
        self._ready = not options.setup
        # a client-side bound a little past the server's own statement limit
        self._deadline = options.timeout * 2 + options.connect_timeout + 1

    def fetchone(self, query: str, params: Sequence[Any]) -> Any:
        """The first row of ``query``, or None."""

        def run(conn: Connection) -> Any:
            cursor = conn.cursor()
            cursor.execute(query, params)
            return cursor.fetchone()

        return self.run(run)

    def fetchall(self, query: str, params: Sequence[Any]) -> list[Any]:
        """Every row of ``query``."""

        def run(conn: Connection) -> list[Any]:
            cursor = conn.cursor()
            cursor.execute(query, params)
            return list(cursor.fetchall())

        return self.run(run)

    def rowcount(self, query: str, params: Sequence[Any]) -> int:
        """How many rows ``query`` matched."""

        def run(conn: Connection) -> int:
            cursor = conn.cursor()
            count: int = cursor.execute(query, params)
            return count

        return self.run(run)

    def run(self, work: Work[T]) -> T:
        """Run ``work`` on a borrowed connection (the schema made first if needed)."""
        try:
            if not self._ready:
                self._with_retry(self._create_schema)
                self._ready = True
            return self._with_retry(work)
        except DRIVER_ERRORS as exc:
            cause = _cause(exc)
            raise self._error(cause) from cause

    def setup(self) -> None:
        """Create the table and its indexes if they are missing (idempotent)."""
        try:
            self._with_retry(self._create_schema)
        except DRIVER_ERRORS as exc:
            cause = _cause(exc)
            raise self._error(cause) from cause
        self._ready = True

    def close(self) -> None:
        """Close the pooled connections."""
        self.pool.close()

    def _error(self, exc: BaseException) -> StoreError:
        return store_error(exc, self.pool.unreachable, self._what)

    def _with_retry(self, work: Work[T]) -> T:
        try:
            return self._attempt(work)
        except ConnectionLost:
            self.pool.reset()  # the other idle connections died too: once more, afresh
            return self._attempt(work)

    def _attempt(self, work: Work[T]) -> T:
        conn, reused = self.pool.take()
        try:
            with deadline(self._deadline):
                result = work(conn)
        except BaseException as exc:
            self.pool.failed(conn)
            if reused and is_lost(exc):
                raise ConnectionLost("the pooled connection was dead") from exc
            raise
        self.pool.give_back(conn)
        return result

    def _create_schema(self, conn: Connection) -> None:
        cursor = conn.cursor()
        wait = max(1, round(self.options.timeout))
        cursor.execute("SELECT GET_LOCK(%s, %s)", (self._lock_name, wait))
        try:
            for statement in self._schema:
                cursor.execute(statement)
        finally:
            cursor.execute("SELECT RELEASE_LOCK(%s)", (self._lock_name,))


def _cause(exc: BaseException) -> BaseException:
    """The driver's own error behind a ``ConnectionLost``, else ``exc``."""
    if isinstance(exc, ConnectionLost) and exc.__cause__ is not None:
        return exc.__cause__
    return exc
