"""PostgreSQL store, sync and async (psycopg 3 with psycopg_pool).

URL: any libpq URL, ``postgresql://user:password@host:5432/db`` (``postgres://`` too),
plus these query parameters of websession's own, removed before connecting (parsed by
``websession.stores.url``, as for the PostgreSQL user store):

* ``table`` (default ``websession_sessions``): the table's name (letters, digits, ``_``;
  at most 50, so index names stay within PostgreSQL's 63 bytes);
* ``max_connections`` (default 10): the size of the connection pool;
* ``timeout`` (default 2): the longest an operation may take, from the client side:
  the wait for a pooled connection, then the statement (the server's
  ``statement_timeout``; a statement unanswered a short grace later has its socket
  shut, see ``_async/database.py``);
* ``setup`` (default ``true``): create the schema on first use; with ``false`` it must
  exist already (``websession setup --store URL`` or ``store.setup()`` creates it).

libpq's own parameters (``sslmode``, ``application_name``, ``connect_timeout``, ...)
pass through; ``connect_timeout`` defaults to 2 seconds.

Schema (``CREATE ... IF NOT EXISTS``, under an advisory lock)::

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

The package::

    sql.py                 schema, statements (rendered once) and row codecs
    errors.py              driver errors as StoreErrors
    pool.py                pool settings
    health.py              whether the server answers: fast 503s, one log line per outage
    _async/connections.py  connection classes that report each attempt to ``health``
    async_deadline.py      the client-side deadline of the async stores (a loop timer)
    deadline.py            ... and of the sync ones (a watchdog thread)
    async_lease.py         how the async stores borrow connections (held for reuse)
    lease.py               ... and the sync ones (straight from the pool)
    _async/database.py     one table's connections: retry, setup, cursors
    _async/store.py        the session store
    _sync/                 generated from _async/ by scripts/generate_sync.py
"""

from __future__ import annotations

from websession.errors import ConfigError

try:
    import psycopg  # noqa: F401
    import psycopg_pool  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on the installed extras
    raise ConfigError(
        "postgresql:// stores need the 'postgres' extra: pip install 'websession[postgres]'"
    ) from exc

from websession.stores.postgres._async.store import AsyncPostgresStore
from websession.stores.postgres._sync.store import PostgresStore
from websession.stores.postgres.sql import schema_statements
from websession.stores.url import PostgresOptions, parse_postgres_url

__all__ = [
    "AsyncPostgresStore",
    "PostgresOptions",
    "PostgresStore",
    "open_async",
    "open_sync",
    "parse_url",
    "schema_statements",
]

DEFAULT_TABLE = "websession_sessions"


def parse_url(url: str) -> PostgresOptions:
    """The options of a session store URL (``websession.stores.url.parse_postgres_url``)."""
    return parse_postgres_url(url, table=DEFAULT_TABLE)


def open_sync(url: str) -> PostgresStore:
    """The sync store for a PostgreSQL URL; connects on first use."""
    return PostgresStore(parse_url(url))


def open_async(url: str) -> AsyncPostgresStore:
    """The async store for a PostgreSQL URL; connects on first use."""
    return AsyncPostgresStore(parse_url(url))
