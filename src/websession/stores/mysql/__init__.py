"""MySQL / MariaDB store, sync and async (aiomysql for async, PyMySQL for sync).

URL: ``mysql://user:password@host:3306/database`` (``mariadb://`` too), with the query
parameters of ``websession.stores.mysql.options``: ``table``, ``max_connections``,
``timeout``, ``setup`` and ``connect_timeout``, as for the PostgreSQL store.

Schema (``CREATE TABLE IF NOT EXISTS``, under a named lock; ``websession setup --sql``
prints it)::

    CREATE TABLE websession_sessions (
        `key` VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin PRIMARY KEY,
                                          -- SHA-256 of the token, never the token
        data JSON NOT NULL,               -- the session's values
        created_at DOUBLE NOT NULL, last_seen DOUBLE NOT NULL,
        expires_at DOUBLE NOT NULL,       -- idle deadline (Unix seconds)
        absolute_expires_at DOUBLE NOT NULL,
        user_id VARCHAR(255) NULL,        -- per-user index
        INDEX ..._expires_idx (expires_at), INDEX ..._user_idx (user_id)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin

The package::

    options.py          the URL's options
    sql.py              schema, statements and row codecs
    errors.py           driver errors as StoreErrors
    async_compat.py     the async driver's primitives (compat.py: the sync ones)
    _async/pool.py      a small pool that keeps idle connections for the next operation
    _async/database.py  one table's connections: retry, setup, cursors
    _async/store.py     the session store
    _sync/              generated from _async/ by scripts/generate_sync.py
"""

from __future__ import annotations

from websession.errors import ConfigError

try:
    import aiomysql  # noqa: F401
    import pymysql  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on the installed extras
    raise ConfigError(
        "mysql:// stores need the 'mysql' extra: pip install 'websession[mysql]'"
    ) from exc

from websession.stores.mysql._async.store import AsyncMysqlStore
from websession.stores.mysql._sync.store import MysqlStore
from websession.stores.mysql.options import MysqlOptions, parse_mysql_url
from websession.stores.mysql.sql import schema_statements

__all__ = [
    "AsyncMysqlStore",
    "MysqlOptions",
    "MysqlStore",
    "open_async",
    "open_sync",
    "parse_url",
    "schema_statements",
]


def parse_url(url: str) -> MysqlOptions:
    """The options of a session store URL (``options.parse_mysql_url``)."""
    return parse_mysql_url(url)


def open_sync(url: str) -> MysqlStore:
    """The sync store for a MySQL / MariaDB URL; connects on first use."""
    return MysqlStore(parse_url(url))


def open_async(url: str) -> AsyncMysqlStore:
    """The async store for a MySQL / MariaDB URL; connects on first use."""
    return AsyncMysqlStore(parse_url(url))
