"""PostgreSQL store, sync and async (psycopg 3 with psycopg_pool).

URL: any libpq URL, ``postgresql://user:password@host:5432/db`` (``postgres://`` too),
plus these query parameters of websession's own, removed before connecting:

* ``table`` (default ``websession_sessions``): the table's name (letters, digits, ``_``);
* ``max_connections`` (default 10): the size of the connection pool;
* ``timeout`` (default 2): seconds a statement may run (``statement_timeout``) and
  seconds to wait for a pooled connection;
* ``setup`` (default ``true``): create the schema on first use; with ``false`` it must
  exist already (``websession setup --store URL`` or ``store.setup()`` creates it).

libpq's own parameters (``sslmode``, ``application_name``, ``connect_timeout``, ...)
pass through; ``connect_timeout`` defaults to 2 seconds.

Schema (``CREATE ... IF NOT EXISTS``, under an advisory lock so that workers starting
together do not race)::

    CREATE TABLE websession_sessions (
        key TEXT PRIMARY KEY,                -- SHA-256 of the token, never the token
        data JSONB NOT NULL,                 -- the session's values
        created_at DOUBLE PRECISION NOT NULL,
        last_seen DOUBLE PRECISION NOT NULL,
        expires_at DOUBLE PRECISION NOT NULL,           -- idle deadline (Unix seconds)
        absolute_expires_at DOUBLE PRECISION NOT NULL,
        user_id TEXT                         -- per-user index (partial index)
    );
    CREATE INDEX websession_sessions_expires_idx ON websession_sessions (expires_at);
    CREATE INDEX websession_sessions_user_idx ON websession_sessions (user_id)
        WHERE user_id IS NOT NULL;

Every operation is one statement on a pooled autocommit connection: one round trip.
``load`` is a primary-key SELECT; ``update`` merges the changed keys on the server,
``data = (data - removed) || set``, so concurrent requests that change different keys
both survive (PostgreSQL re-reads a row updated under it before applying the next
patch) and a deleted row is never brought back; ``create`` is ``INSERT ... ON CONFLICT
DO NOTHING``; ``replace`` deletes the old row and inserts the new one in one statement;
``purge_expired`` deletes at most ``limit`` expired rows per call (``FOR UPDATE SKIP
LOCKED``, so several purgers do not wait on each other).

The async store reuses a connection it took from the pool for up to a second before
handing it back (a pool checkout costs about as much client time as the statement; a
timer hands it back when no request comes), and never holds more than
``max_connections`` in all; a connection that fails or is
cancelled mid-statement goes straight back to the pool, which closes and replaces it.

Nothing connects until the first operation, so an app starts while PostgreSQL is
down and answers 503 until it is back. A pooled connection found dead (server
restarted) makes the pool check its idle connections, and the operation is sent once
more; every operation here can be repeated safely (a repeated create finds its own row).
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from time import monotonic
from typing import Any, LiteralString, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit
from weakref import WeakKeyDictionary

import orjson

from websession.errors import ConfigError, StoreError, StoreTimeout, StoreUnavailable
from websession.types import Changes, Record, SessionKey

try:
    import psycopg
    from psycopg import sql
    from psycopg.types.json import set_json_loads
    from psycopg_pool import AsyncConnectionPool, ConnectionPool, PoolTimeout
except ImportError as exc:  # pragma: no cover - depends on the installed extras
    raise ConfigError(
        "postgresql:// session stores need the 'postgres' extra: pip install 'websession[postgres]'"
    ) from exc

__all__ = [
    "AsyncPostgresStore",
    "PostgresOptions",
    "PostgresStore",
    "open_async",
    "open_sync",
    "parse_url",
    "schema_statements",
]

T = TypeVar("T")

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,49}")
_OWN_OPTIONS = ("table", "max_connections", "timeout", "setup")
_COLUMNS = ("data", "created_at", "last_seen", "expires_at", "absolute_expires_at", "user_id")
_TRUE = {"1", "true", "yes", "on"}
_HOLD_SECONDS = 1.0
"""How long the async store reuses a connection before handing it back to the pool."""
_FALSE = {"0", "false", "no", "off"}


# -- options -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PostgresOptions:
    """Connection settings of a PostgreSQL store, parsed from its URL by ``parse_url``."""

    conninfo: str = field(repr=False)
    """The libpq URL, without websession's own parameters (may hold a password)."""
    table: str = "websession_sessions"
    """The sessions table."""
    max_connections: int = 10
    """Pool size."""
    timeout: float = 2.0
    """Seconds a statement may run, and seconds to wait for a pooled connection."""
    setup: bool = True
    """Create the schema on first use."""

    @property
    def host(self) -> str:
        """The server's host name, for messages (never the password)."""
        return urlsplit(self.conninfo).hostname or "localhost"


def parse_url(url: str) -> PostgresOptions:
    """Split a ``postgresql://`` URL into the libpq URL and websession's own options.

    Raises ConfigError, saying what to change; the message never repeats a password.
    """
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("postgresql", "postgres"):
        raise ConfigError(
            f"a PostgreSQL store URL starts with postgresql://, not {parts.scheme}://"
        )
    own: dict[str, str] = {}
    kept: list[tuple[str, str]] = []
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        if name in _OWN_OPTIONS:
            if name in own:
                raise ConfigError(f"the PostgreSQL URL sets {name!r} twice; keep one")
            own[name] = value
        else:
            kept.append((name, value))
    if not any(name == "connect_timeout" for name, _ in kept):
        kept.append(("connect_timeout", "2"))
    conninfo = urlunsplit(parts._replace(scheme="postgresql", query=urlencode(kept)))
    return PostgresOptions(conninfo, **_own_options(own))


def _own_options(own: dict[str, str]) -> dict[str, Any]:
    options: dict[str, Any] = {}
    if "table" in own:
        if not _IDENTIFIER.fullmatch(own["table"]):
            raise ConfigError(
                f"table={own['table']!r} is not a usable table name: up to 50 letters, "
                "digits and '_', not starting with a digit"
            )
        options["table"] = own["table"]
    if "max_connections" in own:
        value = own["max_connections"]
        if not value.isdigit() or int(value) < 1:
            raise ConfigError("max_connections is a whole number of at least 1, e.g. 10")
        options["max_connections"] = int(value)
    if "timeout" in own:
        try:
            seconds = float(own["timeout"])
        except ValueError:
            seconds = float("nan")
        if not 0 < seconds < 86400:
            raise ConfigError("timeout is a positive number of seconds, e.g. ?timeout=2")
        options["timeout"] = seconds
    if "setup" in own:
        flag = own["setup"].lower()
        if flag not in _TRUE | _FALSE:
            raise ConfigError("setup is true or false, e.g. ?setup=false")
        options["setup"] = flag in _TRUE
    return options


# -- statements --------------------------------------------------------------------


def schema_statements(table: str = "websession_sessions") -> list[str]:
    """The SQL that creates the sessions table and its indexes (idempotent)."""
    if not _IDENTIFIER.fullmatch(table):
        raise ConfigError(f"{table!r} is not a usable table name")
    return [
        f"CREATE TABLE IF NOT EXISTS {table} (key TEXT PRIMARY KEY, data JSONB NOT NULL, "
        "created_at DOUBLE PRECISION NOT NULL, last_seen DOUBLE PRECISION NOT NULL, "
        "expires_at DOUBLE PRECISION NOT NULL, "
        "absolute_expires_at DOUBLE PRECISION NOT NULL, user_id TEXT)",
        f"CREATE INDEX IF NOT EXISTS {table}_expires_idx ON {table} (expires_at)",
        f"CREATE INDEX IF NOT EXISTS {table}_user_idx ON {table} (user_id) "
        "WHERE user_id IS NOT NULL",
    ]


class _Statements:
    """The statements for one table, rendered to text once: psycopg would compose an
    ``sql.Composed`` again on every execute."""

    def __init__(self, table: str) -> None:
        name = sql.Identifier(table)
        columns = sql.SQL(", ").join(map(sql.Identifier, _COLUMNS))
        self.lock_key = f"websession_sessions:{table}"
        self.schema = [sql.SQL(statement) for statement in schema_statements(table)]
        self.load = _render(sql.SQL("SELECT {} FROM {} WHERE key = %s").format(columns, name))
        insert = sql.SQL(
            "INSERT INTO {} (key, {}) VALUES (%s, %s::jsonb, %s, %s, %s, %s, %s) "
            "ON CONFLICT (key) DO NOTHING"
        ).format(name, columns)
        self.create = _render(insert)
        self.update = _render(
            sql.SQL(
                "UPDATE {} SET data = (data - %s::text[]) || %s::jsonb, last_seen = %s, "
                "expires_at = %s, user_id = CASE WHEN %s THEN %s::text ELSE user_id END "
                "WHERE key = %s"
            ).format(name)
        )
        self.touch = _render(
            sql.SQL("UPDATE {} SET last_seen = %s, expires_at = %s WHERE key = %s").format(name)
        )
        self.replace = _render(
            sql.SQL("WITH gone AS (DELETE FROM {} WHERE key = %s) {}").format(name, insert)
        )
        self.delete = _render(sql.SQL("DELETE FROM {} WHERE key = %s").format(name))
        self.list_user = _render(
            sql.SQL(
                "SELECT key, {} FROM {} WHERE user_id = %s AND expires_at > %s ORDER BY created_at"
            ).format(columns, name)
        )
        self.delete_user = _render(
            sql.SQL("DELETE FROM {} WHERE user_id = %s AND key IS DISTINCT FROM %s::text").format(
                name
            )
        )
        self.purge = _render(
            sql.SQL(
                "DELETE FROM {0} WHERE key IN (SELECT key FROM {0} WHERE expires_at < %s "
                "ORDER BY expires_at LIMIT %s FOR UPDATE SKIP LOCKED)"
            ).format(name)
        )


def _render(query: sql.Composed) -> LiteralString:
    # literal SQL around identifiers checked against _IDENTIFIER
    return query.as_string(None)


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


def _record(row: Any) -> Record:
    return Record(row[0], row[1], row[2], row[3], row[4], row[5])


def _insert_params(key: SessionKey, record: Record) -> tuple[Any, ...]:
    return (
        key,
        _json(record.data),
        record.created_at,
        record.last_seen,
        record.expires_at,
        record.absolute_expires_at,
        record.user_id,
    )


def _update_params(key: SessionKey, changes: Changes) -> tuple[Any, ...]:
    return (
        list(changes.remove),
        _json(dict(changes.set)),
        changes.last_seen,
        changes.expires_at,
        changes.set_user,
        changes.user_id,
        key,
    )


# -- errors ------------------------------------------------------------------------


def _store_error(exc: BaseException, unreachable: bool) -> StoreError:
    """The StoreError for a driver error; the message never echoes parameters."""
    if isinstance(exc, PoolTimeout):
        if unreachable:
            return StoreUnavailable("the PostgreSQL session store is unreachable")
        return StoreTimeout("no PostgreSQL connection became free in time")
    if isinstance(exc, psycopg.errors.QueryCanceled):
        return StoreTimeout("a PostgreSQL session store statement timed out")
    if isinstance(exc, psycopg.OperationalError):
        return StoreUnavailable("the PostgreSQL session store is unreachable")
    return StoreError("a PostgreSQL session store statement failed")


class _ConnectErrors:
    """Tells whether a pool failed to connect since the last time it was asked: a wait
    for a connection that ends that way means the server is unreachable, not busy."""

    def __init__(self, pool: ConnectionPool[Any] | AsyncConnectionPool[Any]) -> None:
        self._pool = pool
        self._seen = 0

    def since_last_asked(self) -> bool:
        errors = self._pool.get_stats().get("connections_errors", 0)
        seen, self._seen = self._seen, errors
        return errors > seen


_DRIVER_ERRORS = (psycopg.Error, PoolTimeout)


def _pool_settings(options: PostgresOptions) -> dict[str, Any]:
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


# -- sync --------------------------------------------------------------------------


def _configure(conn: psycopg.Connection[Any]) -> None:
    set_json_loads(orjson.loads, conn)


class PostgresStore:
    """Sessions in a PostgreSQL table, through a pool of sync connections."""

    def __init__(self, options: PostgresOptions) -> None:
        self.options = options
        self._sql = _Statements(options.table)
        self._pool: ConnectionPool[Any] = ConnectionPool(
            options.conninfo, configure=_configure, **_pool_settings(options)
        )
        self._connect_errors = _ConnectErrors(self._pool)
        self._cursors: WeakKeyDictionary[psycopg.Connection[Any], psycopg.Cursor[Any]]
        self._cursors = WeakKeyDictionary()
        self._lock = threading.Lock()
        self._setup_lock = threading.Lock()
        self._open = False
        self._ready = not options.setup

    def __repr__(self) -> str:
        return f"PostgresStore(host={self.options.host!r}, table={self.options.table!r})"

    def _run(self, work: Callable[[psycopg.Connection[Any]], T]) -> T:
        try:
            if not self._ready:
                self._prepare()
            return self._with_retry(work)
        except _DRIVER_ERRORS as exc:
            raise _store_error(exc, self._connect_errors.since_last_asked()) from exc

    def _with_retry(self, work: Callable[[psycopg.Connection[Any]], T]) -> T:
        try:
            return self._attempt(work)
        except psycopg.OperationalError as exc:
            if not getattr(exc, "_websession_broken", False):
                raise
            self._pool.check()  # drop the other dead connections, then once more
            return self._attempt(work)

    def _attempt(self, work: Callable[[psycopg.Connection[Any]], T]) -> T:
        if not self._open:
            with self._lock:
                if not self._open:
                    self._pool.open(wait=False)
                    self._open = True
        # getconn/putconn rather than connection(): the latter also enters the
        # connection's own context (a commit, a no-op in autocommit) and keeps stats.
        # putconn closes a connection left mid-statement or broken, and replaces it.
        pool = self._pool
        conn = pool.getconn()
        try:
            return work(conn)
        except psycopg.OperationalError as exc:
            exc._websession_broken = conn.broken  # type: ignore[attr-defined]
            raise
        finally:
            pool.putconn(conn)

    def _cursor(self, conn: psycopg.Connection[Any]) -> psycopg.Cursor[Any]:
        """The connection's cursor, made once: a new cursor per statement costs more."""
        cursor = self._cursors.get(conn)
        if cursor is None or cursor.closed:
            cursor = self._cursors[conn] = conn.cursor()
        return cursor

    def _prepare(self, *, again: bool = False) -> None:
        with self._setup_lock:
            if again or not self._ready:
                self._with_retry(self._create_schema)
                self._ready = True

    def _create_schema(self, conn: psycopg.Connection[Any]) -> None:
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (self._sql.lock_key,))
            for statement in self._sql.schema:
                conn.execute(statement)

    def setup(self) -> None:
        """Create the table and its indexes if they are missing (idempotent)."""
        try:
            self._prepare(again=True)
        except _DRIVER_ERRORS as exc:
            raise _store_error(exc, self._connect_errors.since_last_asked()) from exc

    def load(self, key: SessionKey) -> Record | None:
        """See ``Store.load``: one primary-key SELECT."""
        row = self._run(lambda conn: self._cursor(conn).execute(self._sql.load, (key,)).fetchone())
        return None if row is None else _record(row)

    def create(self, key: SessionKey, record: Record) -> bool:
        """See ``Store.create``: one INSERT that never overwrites."""
        params = _insert_params(key, record)
        return self._run(
            lambda conn: self._cursor(conn).execute(self._sql.create, params).rowcount == 1
        )

    def update(self, key: SessionKey, changes: Changes) -> bool:
        """See ``Store.update``: one UPDATE merging the changed keys on the server."""
        params = _update_params(key, changes)
        return self._run(
            lambda conn: self._cursor(conn).execute(self._sql.update, params).rowcount == 1
        )

    def touch(self, key: SessionKey, last_seen: float, expires_at: float) -> bool:
        """See ``Store.touch``: one UPDATE of the deadline."""
        params = (last_seen, expires_at, key)
        return self._run(
            lambda conn: self._cursor(conn).execute(self._sql.touch, params).rowcount == 1
        )

    def replace(self, old_key: SessionKey, key: SessionKey, record: Record) -> None:
        """See ``Store.replace``: one statement deleting the old row and inserting."""
        params = (old_key, *_insert_params(key, record))
        self._run(lambda conn: self._cursor(conn).execute(self._sql.replace, params))

    def delete(self, key: SessionKey) -> None:
        """See ``Store.delete``."""
        self._run(lambda conn: self._cursor(conn).execute(self._sql.delete, (key,)))

    def list_user(self, user_id: str, now: float) -> list[tuple[SessionKey, Record]]:
        """See ``Store.list_user``: one SELECT through the user index."""
        rows = self._run(
            lambda conn: self._cursor(conn).execute(self._sql.list_user, (user_id, now)).fetchall()
        )
        return [(SessionKey(row[0]), _record(row[1:])) for row in rows]

    def delete_user(self, user_id: str, *, keep: SessionKey | None = None) -> int:
        """See ``Store.delete_user``: one DELETE through the user index."""
        return self._run(
            lambda conn: self._cursor(conn).execute(self._sql.delete_user, (user_id, keep)).rowcount
        )

    def purge_expired(self, now: float, *, limit: int = 1000) -> int:
        """See ``Store.purge_expired``: one bounded DELETE."""
        return self._run(
            lambda conn: self._cursor(conn).execute(self._sql.purge, (now, limit)).rowcount
        )

    def close(self) -> None:
        """Close the pool and its connections."""
        self._pool.close()


# -- async -------------------------------------------------------------------------


async def _configure_async(conn: psycopg.AsyncConnection[Any]) -> None:
    set_json_loads(orjson.loads, conn)


AsyncWork = Callable[[psycopg.AsyncConnection[Any]], Awaitable[T]]


class AsyncPostgresStore:
    """Sessions in a PostgreSQL table, through a pool of async connections."""

    def __init__(self, options: PostgresOptions) -> None:
        self.options = options
        self._sql = _Statements(options.table)
        self._pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
            options.conninfo, configure=_configure_async, **_pool_settings(options)
        )
        self._connect_errors = _ConnectErrors(self._pool)
        self._cursors: WeakKeyDictionary[psycopg.AsyncConnection[Any], psycopg.AsyncCursor[Any]]
        self._cursors = WeakKeyDictionary()
        # Connections taken from the pool are kept for up to _HOLD_SECONDS and reused
        # directly (a pool checkout costs about as much as the statement's own client
        # work); the semaphore keeps those held plus those in use within the pool's
        # size, so the pool always has a connection for a caller with no held one.
        self._held: list[tuple[psycopg.AsyncConnection[Any], float]] = []
        # held connections go back to the pool at the latest _HOLD_SECONDS after they
        # were taken, also when no request comes to use them (an idle app)
        self._release_timer: asyncio.TimerHandle | None = None
        self._releasing: set[asyncio.Task[None]] = set()
        self._slots = asyncio.Semaphore(options.max_connections)
        self._lock: asyncio.Lock | None = None
        self._setup_lock: asyncio.Lock | None = None
        self._open = False
        self._ready = not options.setup

    def __repr__(self) -> str:
        return f"AsyncPostgresStore(host={self.options.host!r}, table={self.options.table!r})"

    async def _run(self, work: AsyncWork[T]) -> T:
        try:
            if not self._ready:
                await self._prepare()
            return await self._with_retry(work)
        except _DRIVER_ERRORS as exc:
            raise _store_error(exc, self._connect_errors.since_last_asked()) from exc

    async def _with_retry(self, work: AsyncWork[T]) -> T:
        try:
            return await self._attempt(work)
        except psycopg.OperationalError as exc:
            if not getattr(exc, "_websession_broken", False):
                raise
            await self._release_held()
            await self._pool.check()  # drop the other dead connections, then once more
            return await self._attempt(work)

    async def _attempt(self, work: AsyncWork[T]) -> T:
        if not self._open:
            async with self._locked():
                if not self._open:
                    await self._pool.open(wait=False)
                    self._open = True
        deadline = monotonic() + self.options.timeout
        slots = self._slots
        if slots.locked():  # every connection is busy: wait, within the timeout
            try:
                async with asyncio.timeout(self.options.timeout):
                    await slots.acquire()
            except TimeoutError:
                raise PoolTimeout("no connection became free in time") from None
        else:
            await slots.acquire()  # returns at once
        try:
            if self._held:
                conn, since = self._held.pop()
            else:
                conn = await self._pool.getconn(max(deadline - monotonic(), 0.001))
                since = monotonic()
            try:
                result = await work(conn)
            except BaseException as exc:
                if isinstance(exc, psycopg.OperationalError):
                    exc._websession_broken = conn.broken  # type: ignore[attr-defined]
                await self._pool.putconn(conn)  # closes it if broken or left mid-statement
                raise
            if monotonic() - since < _HOLD_SECONDS:
                self._held.append((conn, since))
                self._schedule_release()
            else:
                await self._pool.putconn(conn)
            return result
        finally:
            slots.release()

    def _schedule_release(self) -> None:
        if self._release_timer is None:
            loop = asyncio.get_running_loop()
            self._release_timer = loop.call_later(_HOLD_SECONDS, self._on_release_timer)

    def _on_release_timer(self) -> None:
        self._release_timer = None
        task = asyncio.ensure_future(self._release_expired())
        self._releasing.add(task)
        task.add_done_callback(self._releasing.discard)

    async def _release_expired(self) -> None:
        """Hand back the connections held for ``_HOLD_SECONDS`` or more."""
        now = monotonic()
        expired = [conn for conn, since in self._held if now - since >= _HOLD_SECONDS]
        self._held = [(conn, since) for conn, since in self._held if now - since < _HOLD_SECONDS]
        for conn in expired:
            await self._pool.putconn(conn)
        if self._held:
            self._schedule_release()

    async def _release_held(self) -> None:
        held, self._held = self._held, []
        for conn, _ in held:
            await self._pool.putconn(conn)

    def _locked(self) -> asyncio.Lock:
        if self._lock is None:
            self._lock = asyncio.Lock()
        return self._lock

    async def _prepare(self, *, again: bool = False) -> None:
        if self._setup_lock is None:
            self._setup_lock = asyncio.Lock()
        async with self._setup_lock:
            if again or not self._ready:
                await self._with_retry(self._create_schema)
                self._ready = True

    async def _create_schema(self, conn: psycopg.AsyncConnection[Any]) -> None:
        async with conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (self._sql.lock_key,))
            for statement in self._sql.schema:
                await conn.execute(statement)

    async def setup(self) -> None:
        """Create the table and its indexes if they are missing (idempotent)."""
        try:
            await self._prepare(again=True)
        except _DRIVER_ERRORS as exc:
            raise _store_error(exc, self._connect_errors.since_last_asked()) from exc

    def _cursor(self, conn: psycopg.AsyncConnection[Any]) -> psycopg.AsyncCursor[Any]:
        """The connection's cursor, made once: a new cursor per statement costs more."""
        cursor = self._cursors.get(conn)
        if cursor is None or cursor.closed:
            cursor = self._cursors[conn] = conn.cursor()
        return cursor

    async def _fetchone(self, query: LiteralString, params: tuple[Any, ...]) -> Any:
        async def run(conn: psycopg.AsyncConnection[Any]) -> Any:
            cursor = self._cursor(conn)
            await cursor.execute(query, params)
            return await cursor.fetchone()

        return await self._run(run)

    async def _fetchall(self, query: LiteralString, params: tuple[Any, ...]) -> list[Any]:
        async def run(conn: psycopg.AsyncConnection[Any]) -> list[Any]:
            cursor = self._cursor(conn)
            await cursor.execute(query, params)
            return await cursor.fetchall()

        return await self._run(run)

    async def _rowcount(self, query: LiteralString, params: tuple[Any, ...]) -> int:
        async def run(conn: psycopg.AsyncConnection[Any]) -> int:
            cursor = self._cursor(conn)
            await cursor.execute(query, params)
            return cursor.rowcount

        return await self._run(run)

    async def load(self, key: SessionKey) -> Record | None:
        """See ``Store.load``: one primary-key SELECT."""
        row = await self._fetchone(self._sql.load, (key,))
        return None if row is None else _record(row)

    async def create(self, key: SessionKey, record: Record) -> bool:
        """See ``Store.create``: one INSERT that never overwrites."""
        return await self._rowcount(self._sql.create, _insert_params(key, record)) == 1

    async def update(self, key: SessionKey, changes: Changes) -> bool:
        """See ``Store.update``: one UPDATE merging the changed keys on the server."""
        return await self._rowcount(self._sql.update, _update_params(key, changes)) == 1

    async def touch(self, key: SessionKey, last_seen: float, expires_at: float) -> bool:
        """See ``Store.touch``: one UPDATE of the deadline."""
        return await self._rowcount(self._sql.touch, (last_seen, expires_at, key)) == 1

    async def replace(self, old_key: SessionKey, key: SessionKey, record: Record) -> None:
        """See ``Store.replace``: one statement deleting the old row and inserting."""
        await self._rowcount(self._sql.replace, (old_key, *_insert_params(key, record)))

    async def delete(self, key: SessionKey) -> None:
        """See ``Store.delete``."""
        await self._rowcount(self._sql.delete, (key,))

    async def list_user(self, user_id: str, now: float) -> list[tuple[SessionKey, Record]]:
        """See ``Store.list_user``: one SELECT through the user index."""
        rows = await self._fetchall(self._sql.list_user, (user_id, now))
        return [(SessionKey(row[0]), _record(row[1:])) for row in rows]

    async def delete_user(self, user_id: str, *, keep: SessionKey | None = None) -> int:
        """See ``Store.delete_user``: one DELETE through the user index."""
        return await self._rowcount(self._sql.delete_user, (user_id, keep))

    async def purge_expired(self, now: float, *, limit: int = 1000) -> int:
        """See ``Store.purge_expired``: one bounded DELETE."""
        return await self._rowcount(self._sql.purge, (now, limit))

    async def close(self) -> None:
        """Close the pool and its connections."""
        if self._release_timer is not None:
            self._release_timer.cancel()
            self._release_timer = None
        if self._releasing:
            await asyncio.gather(*self._releasing, return_exceptions=True)
        await self._release_held()
        await self._pool.close()


def open_sync(url: str) -> PostgresStore:
    """The sync store for a PostgreSQL URL (see the module doc); connects on first use."""
    return PostgresStore(parse_url(url))


def open_async(url: str) -> AsyncPostgresStore:
    """The async store for a PostgreSQL URL (see the module doc); connects on first use."""
    return AsyncPostgresStore(parse_url(url))
