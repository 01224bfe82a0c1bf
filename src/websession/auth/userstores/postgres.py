"""PostgreSQL user store, sync and async (psycopg 3 with a connection pool).

URL: any libpq URL, ``postgresql://user:password@host:5432/db``, plus these query
parameters of websession's own (removed before connecting):

* ``table`` (default ``websession_users``): the table's name;
* ``max_connections`` (default 10): the pool's size;
* ``timeout`` (default 5): seconds to wait for a pooled connection.

Schema (created on first use, under an advisory lock so that workers starting
together do not race)::

    CREATE TABLE websession_users (
        id TEXT PRIMARY KEY,
        username TEXT NOT NULL,
        username_key TEXT NOT NULL UNIQUE,   -- case-folded: the lookup key
        password_hash TEXT NOT NULL,         -- argon2id PHC string
        created_at DOUBLE PRECISION NOT NULL,
        password_changed_at DOUBLE PRECISION NOT NULL
    )

Every operation is one statement on a pooled autocommit connection. Nothing connects
until the first operation, so an app starts while PostgreSQL is down.
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from websession.auth.users import User, user_row, username_key
from websession.errors import ConfigError, StoreError, StoreTimeout, StoreUnavailable

try:
    import psycopg
    from psycopg import sql
    from psycopg_pool import AsyncConnectionPool, ConnectionPool, PoolTimeout
except ImportError as exc:  # pragma: no cover - depends on the installed extras
    raise ConfigError(
        "postgresql:// user stores need the 'postgres' extra: pip install 'websession[postgres]'"
    ) from exc

__all__ = ["AsyncPostgresUserStore", "PostgresOptions", "PostgresUserStore", "parse_url"]

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
_COLUMNS = ("id", "username", "password_hash", "created_at", "password_changed_at")


@dataclass(frozen=True, slots=True)
class PostgresOptions:
    """Connection settings parsed from a URL by ``parse_url``."""

    conninfo: str
    """The libpq URL, without websession's own parameters."""
    table: str = "websession_users"
    """The users table."""
    max_connections: int = 10
    """Pool size."""
    timeout: float = 5.0
    """Seconds to wait for a pooled connection (and to connect)."""

    def __repr__(self) -> str:
        parts = urlsplit(self.conninfo)
        host = parts.hostname or ""
        return f"PostgresOptions(host={host!r}, table={self.table!r})"


def parse_url(url: str) -> PostgresOptions:
    """Split ``url`` into the libpq URL and websession's own options."""
    parts = urlsplit(url)
    own: dict[str, str] = {}
    kept: list[tuple[str, str]] = []
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        if name in ("table", "max_connections", "timeout"):
            own[name] = value
        else:
            kept.append((name, value))
    table = own.get("table", "websession_users")
    if not _IDENTIFIER.fullmatch(table):
        raise ConfigError(f"table={table!r} is not a valid table name: use letters, digits, _")
    try:
        max_connections = int(own.get("max_connections", "10"))
        timeout = float(own.get("timeout", "5"))
    except ValueError:
        raise ConfigError("max_connections must be an int and timeout a number") from None
    if max_connections < 1 or timeout <= 0:
        raise ConfigError("max_connections and timeout must be positive")
    if not any(name == "connect_timeout" for name, _ in kept):
        kept.append(("connect_timeout", str(max(1, round(timeout)))))
    conninfo = urlunsplit(parts._replace(scheme="postgresql", query=urlencode(kept)))
    return PostgresOptions(conninfo, table, max_connections, timeout)


class _Queries:
    """The statements for one table name."""

    def __init__(self, table: str) -> None:
        name = sql.Identifier(table)
        columns = sql.SQL(", ").join(map(sql.Identifier, _COLUMNS))
        self.lock_key = f"websession_users:{table}"
        self.schema = sql.SQL(
            "CREATE TABLE IF NOT EXISTS {} (id TEXT PRIMARY KEY, username TEXT NOT NULL, "
            "username_key TEXT NOT NULL UNIQUE, password_hash TEXT NOT NULL, "
            "created_at DOUBLE PRECISION NOT NULL, "
            "password_changed_at DOUBLE PRECISION NOT NULL)"
        ).format(name)
        self.get = sql.SQL("SELECT {} FROM {} WHERE id = %s").format(columns, name)
        self.find = sql.SQL("SELECT {} FROM {} WHERE username_key = %s").format(columns, name)
        self.create = sql.SQL(
            "INSERT INTO {} (id, username, username_key, password_hash, created_at, "
            "password_changed_at) VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING"
        ).format(name)
        self.set_password = sql.SQL(
            "UPDATE {} SET password_hash = %s, password_changed_at = %s "
            "WHERE id = %s AND password_hash = %s"
        ).format(name)
        self.delete = sql.SQL("DELETE FROM {} WHERE id = %s").format(name)


def _row_user(row: Any) -> User | None:
    return None if row is None else User(row[0], row[1], row[2], float(row[3]), float(row[4]))


def _store_error(
    exc: BaseException, pool: ConnectionPool[Any] | AsyncConnectionPool[Any]
) -> StoreError:
    if isinstance(exc, PoolTimeout):
        if pool.get_stats().get("connections_errors", 0):  # it could not connect at all
            return StoreUnavailable("cannot reach the PostgreSQL user database")
        return StoreTimeout("no PostgreSQL connection became free in time")
    if isinstance(exc, psycopg.OperationalError):
        return StoreUnavailable("cannot reach the PostgreSQL user database")
    return StoreError("a PostgreSQL user store operation failed")


_DRIVER_ERRORS = (psycopg.Error, PoolTimeout)


class PostgresUserStore:
    """Users in a PostgreSQL table, through a pool of sync connections."""

    def __init__(self, url: str) -> None:
        self.options = parse_url(url)
        self._queries = _Queries(self.options.table)
        self._pool = ConnectionPool(
            self.options.conninfo,
            min_size=1,
            max_size=self.options.max_connections,
            timeout=self.options.timeout,
            kwargs={"autocommit": True},
            check=ConnectionPool.check_connection,
            open=False,
        )
        self._ready = False
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"PostgresUserStore({self.options!r})"

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection[Any]]:
        try:
            if not self._ready:
                self._prepare()
            with self._pool.connection() as conn:
                yield conn
        except _DRIVER_ERRORS as exc:
            raise _store_error(exc, self._pool) from exc

    def _prepare(self) -> None:
        with self._lock:
            if self._ready:
                return
            self._pool.open()
            with self._pool.connection() as conn, conn.transaction():
                conn.execute(
                    "SELECT pg_advisory_xact_lock(hashtext(%s))", (self._queries.lock_key,)
                )
                conn.execute(self._queries.schema)
            self._ready = True

    def _one(self, query: sql.Composed, params: tuple[object, ...]) -> User | None:
        with self._connection() as conn:
            return _row_user(conn.execute(query, params).fetchone())

    def _count(self, query: sql.Composed, params: tuple[object, ...]) -> bool:
        with self._connection() as conn:
            return conn.execute(query, params).rowcount == 1

    def get(self, user_id: str) -> User | None:
        """See ``UserStore.get``."""
        return self._one(self._queries.get, (user_id,))

    def find(self, username: str) -> User | None:
        """See ``UserStore.find``."""
        return self._one(self._queries.find, (username_key(username),))

    def create(self, user: User) -> bool:
        """See ``UserStore.create``: INSERT ... ON CONFLICT DO NOTHING."""
        return self._count(self._queries.create, user_row(user))

    def set_password(
        self, user_id: str, *, old_hash: str, new_hash: str, changed_at: float
    ) -> bool:
        """See ``UserStore.set_password``: one conditional UPDATE."""
        return self._count(self._queries.set_password, (new_hash, changed_at, user_id, old_hash))

    def delete(self, user_id: str) -> bool:
        """See ``UserStore.delete``."""
        return self._count(self._queries.delete, (user_id,))

    def close(self) -> None:
        """Close the pool."""
        self._pool.close()


class AsyncPostgresUserStore:
    """Users in a PostgreSQL table, through a pool of async connections."""

    def __init__(self, url: str) -> None:
        self.options = parse_url(url)
        self._queries = _Queries(self.options.table)
        self._pool = AsyncConnectionPool(
            self.options.conninfo,
            min_size=1,
            max_size=self.options.max_connections,
            timeout=self.options.timeout,
            kwargs={"autocommit": True},
            check=AsyncConnectionPool.check_connection,
            open=False,
        )
        self._ready = False
        self._lock: asyncio.Lock | None = None

    def __repr__(self) -> str:
        return f"AsyncPostgresUserStore({self.options!r})"

    async def _prepare(self) -> None:
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if self._ready:
                return
            await self._pool.open()
            async with self._pool.connection() as conn, conn.transaction():
                await conn.execute(
                    "SELECT pg_advisory_xact_lock(hashtext(%s))", (self._queries.lock_key,)
                )
                await conn.execute(self._queries.schema)
            self._ready = True

    async def _one(self, query: sql.Composed, params: tuple[object, ...]) -> User | None:
        try:
            if not self._ready:
                await self._prepare()
            async with self._pool.connection() as conn:
                cursor = await conn.execute(query, params)
                return _row_user(await cursor.fetchone())
        except _DRIVER_ERRORS as exc:
            raise _store_error(exc, self._pool) from exc

    async def _count(self, query: sql.Composed, params: tuple[object, ...]) -> bool:
        try:
            if not self._ready:
                await self._prepare()
            async with self._pool.connection() as conn:
                cursor = await conn.execute(query, params)
                return cursor.rowcount == 1
        except _DRIVER_ERRORS as exc:
            raise _store_error(exc, self._pool) from exc

    async def get(self, user_id: str) -> User | None:
        """See ``UserStore.get``."""
        return await self._one(self._queries.get, (user_id,))

    async def find(self, username: str) -> User | None:
        """See ``UserStore.find``."""
        return await self._one(self._queries.find, (username_key(username),))

    async def create(self, user: User) -> bool:
        """See ``UserStore.create``: INSERT ... ON CONFLICT DO NOTHING."""
        return await self._count(self._queries.create, user_row(user))

    async def set_password(
        self, user_id: str, *, old_hash: str, new_hash: str, changed_at: float
    ) -> bool:
        """See ``UserStore.set_password``: one conditional UPDATE."""
        return await self._count(
            self._queries.set_password, (new_hash, changed_at, user_id, old_hash)
        )

    async def delete(self, user_id: str) -> bool:
        """See ``UserStore.delete``."""
        return await self._count(self._queries.delete, (user_id,))

    async def close(self) -> None:
        """Close the pool."""
        await self._pool.close()
