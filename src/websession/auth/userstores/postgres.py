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

__all__ = ["AsyncPostgresUserStore", "PostgresUserStore", "parse_url"]


def parse_url(url: str) -> PostgresOptions:
    """The options of a user store URL: the users table is ``websession_users``."""
    return parse_postgres_url(url, table="websession_users")
