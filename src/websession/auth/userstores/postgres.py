"""PostgreSQL user store, sync and async (``websession[postgres]``).

URL: any libpq URL plus websession's own query parameters, exactly as for the
PostgreSQL session store (``websession.stores.url.parse_postgres_url``): ``table``
(default ``websession_users``), ``max_connections`` (10), ``timeout`` (2 seconds) and
``setup`` (true). The store itself: ``_async/postgres.py``, sync generated.
"""

from __future__ import annotations

from websession.auth.userstores._async.postgres import AsyncPostgresUserStore
from websession.auth.userstores._sync.postgres import PostgresUserStore
from websession.stores.url import PostgresOptions, parse_postgres_url

__all__ = [
    "DEFAULT_TABLE",
    "AsyncPostgresUserStore",
    "PostgresOptions",
    "PostgresUserStore",
    "open_async",
    "open_sync",
    "parse_url",
]

DEFAULT_TABLE = "websession_users"


def parse_url(url: str) -> PostgresOptions:
    """The options of a user store URL (``parse_postgres_url``, users table default)."""
    return parse_postgres_url(url, table=DEFAULT_TABLE)


def open_sync(url: str) -> PostgresUserStore:
    """The sync user store for a PostgreSQL URL; connects on first use."""
    return PostgresUserStore(parse_url(url))


def open_async(url: str) -> AsyncPostgresUserStore:
    """The async user store for a PostgreSQL URL; connects on first use."""
    return AsyncPostgresUserStore(parse_url(url))
