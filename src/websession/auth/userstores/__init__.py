"""User stores, chosen by URL as session stores are.

==================================  ==================================================
URL                                 store
==================================  ==================================================
``memory://``                       in-process dict (tests, one process)
``sqlite:///users.db``              SQLite table ``websession_users``; three slashes for
                                    a relative path, four for an absolute one,
                                    ``sqlite://`` for an in-memory database
``postgresql://user@host/db``       PostgreSQL table ``websession_users``
                                    (``websession[postgres]``; ``?table=`` to rename)
==================================  ==================================================

``open_user_store(url)`` gives the sync form, ``open_async_user_store(url)`` the async
form. psycopg is imported only when a ``postgresql://`` URL is used.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from websession.auth.users import AsyncUserStore, UserStore
from websession.auth.userstores.adapter import AsyncUserAdapter
from websession.auth.userstores.memory import MemoryUserStore
from websession.auth.userstores.sqlite import SQLiteUserStore
from websession.errors import ConfigError
from websession.stores.url import POSTGRES_SCHEMES, scheme, sqlite_path

__all__ = [
    "AsyncUserAdapter",
    "MemoryUserStore",
    "SQLiteUserStore",
    "open_async_user_store",
    "open_user_store",
]

_EXAMPLE = "'sqlite:///users.db' or 'postgresql://host/db'"


def _postgres() -> ModuleType:
    try:
        return importlib.import_module("websession.auth.userstores.postgres")
    except ImportError as exc:
        raise ConfigError(
            "postgresql:// user stores need the 'postgres' extra: "
            "pip install 'websession[postgres]'"
        ) from exc


def open_user_store(url: str) -> UserStore:
    """Return the sync user store for ``url``."""
    kind = scheme(url, what="user store", example=_EXAMPLE)
    if kind == "memory":
        return MemoryUserStore()
    if kind == "sqlite":
        return SQLiteUserStore(sqlite_path(url))
    if kind in POSTGRES_SCHEMES:
        postgres = _postgres()
        store: UserStore = postgres.PostgresUserStore(postgres.parse_url(url))
        return store
    raise ConfigError(
        f"unknown user store scheme {kind!r} in {url!r}: use memory://, sqlite:/// or postgresql://"
    )


def open_async_user_store(url: str) -> AsyncUserStore:
    """Return the async user store for ``url``."""
    if scheme(url, what="user store", example=_EXAMPLE) in POSTGRES_SCHEMES:
        postgres = _postgres()
        store: AsyncUserStore = postgres.AsyncPostgresUserStore(postgres.parse_url(url))
        return store
    return AsyncUserAdapter(open_user_store(url))
