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
from typing import Any
from urllib.parse import unquote, urlsplit

from websession.auth.users import AsyncUserStore, UserStore
from websession.auth.userstores.adapter import AsyncUserAdapter
from websession.auth.userstores.memory import MemoryUserStore
from websession.auth.userstores.sqlite import SQLiteUserStore
from websession.errors import ConfigError

__all__ = [
    "AsyncUserAdapter",
    "MemoryUserStore",
    "SQLiteUserStore",
    "open_async_user_store",
    "open_user_store",
]

_POSTGRES = ("postgresql", "postgres")


def _scheme(url: str) -> str:
    if not isinstance(url, str) or "://" not in url:
        raise ConfigError(
            f"a user store URL looks like 'sqlite:///users.db' or 'postgresql://host/db', "
            f"not {url!r}"
        )
    return url.split("://", 1)[0].lower()


def _postgres(class_name: str, url: str) -> Any:
    module = importlib.import_module("websession.auth.userstores.postgres")
    return getattr(module, class_name)(url)


def open_user_store(url: str) -> UserStore:
    """Return the sync user store for ``url``."""
    scheme = _scheme(url)
    if scheme == "memory":
        return MemoryUserStore()
    if scheme == "sqlite":
        path = unquote(urlsplit(url).path)
        return SQLiteUserStore((path[1:] if path.startswith("/") else path) or ":memory:")
    if scheme in _POSTGRES:
        store: UserStore = _postgres("PostgresUserStore", url)
        return store
    raise ConfigError(
        f"unknown user store scheme {scheme!r} in {url!r}: use memory://, sqlite:/// "
        "or postgresql://"
    )


def open_async_user_store(url: str) -> AsyncUserStore:
    """Return the async user store for ``url``."""
    if _scheme(url) in _POSTGRES:
        store: AsyncUserStore = _postgres("AsyncPostgresUserStore", url)
        return store
    return AsyncUserAdapter(open_user_store(url))
