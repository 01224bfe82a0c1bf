"""Session stores, chosen by URL.

=====================================  ==============================================
URL                                    store
=====================================  ==============================================
``memory://``                          in-process dict (tests, one process)
``file:///var/lib/app/sessions``       one file per session in a directory
``sqlite:///sessions.db``              SQLite, the embedded default; three slashes
                                       for a relative path, four for an absolute one
                                       (``sqlite:////var/lib/app/sessions.db``),
                                       ``sqlite://`` for an in-memory database
``redis://host:6379/0``, ``rediss://``  Redis / Valkey (``websession[redis]``)
``redis+cluster://host:7000``           Redis Cluster (``websession[redis]``)
``postgresql://user@host/db``          PostgreSQL (``websession[postgres]``)
=====================================  ==============================================

``cookie://`` is not a store but a backend (``websession.backends.cookie``): the
session travels in an encrypted cookie; ``SessionMiddleware`` and Flask's ``init_app``
accept it as ``store``.

``open_store(url)`` gives the sync form, ``open_async_store(url)`` the async form.
A server store's driver is imported only when its URL is used.
"""

from __future__ import annotations

import importlib
from typing import Any
from urllib.parse import unquote, urlsplit

from websession.errors import ConfigError
from websession.stores.base import AsyncStore, Store
from websession.stores.file import FileStore, open_async_file
from websession.stores.memory import MemoryStore, open_async_memory
from websession.stores.sqlite import SQLiteStore, open_async_sqlite

__all__ = [
    "AsyncStore",
    "FileStore",
    "MemoryStore",
    "SQLiteStore",
    "Store",
    "open_async_store",
    "open_store",
]

# scheme -> (module, sync factory, async factory, extra)
_SERVER_STORES: dict[str, tuple[str, str, str, str]] = {
    "redis": ("websession.stores.redis", "open_sync", "open_async", "redis"),
    "rediss": ("websession.stores.redis", "open_sync", "open_async", "redis"),
    "redis+cluster": ("websession.stores.redis", "open_sync", "open_async", "redis"),
    "valkey": ("websession.stores.redis", "open_sync", "open_async", "redis"),
    "postgresql": ("websession.stores.postgres", "open_sync", "open_async", "postgres"),
    "postgres": ("websession.stores.postgres", "open_sync", "open_async", "postgres"),
}


def _local_path(url: str) -> str:
    parts = urlsplit(url)
    return unquote(parts.netloc + parts.path)


def _sqlite_path(url: str) -> str:
    """SQLAlchemy's convention: ``sqlite:///rel.db`` is relative, ``sqlite:////abs.db``
    absolute, ``sqlite://`` an in-memory database."""
    parts = urlsplit(url)
    path = unquote(parts.path)
    return path[1:] if path.startswith("/") else path


def _server_factory(scheme: str, url: str, which: int) -> Any:
    module_name, sync_name, async_name, extra = _SERVER_STORES[scheme]
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(
            f"{scheme}:// needs the {extra!r} extra: pip install 'websession[{extra}]'"
        ) from exc
    return getattr(module, sync_name if which == 0 else async_name)(url)


def _scheme(url: str) -> str:
    if not isinstance(url, str) or "://" not in url:
        raise ConfigError(
            f"a store URL looks like 'sqlite:///sessions.db' or 'redis://host:6379/0', not {url!r}"
        )
    return url.split("://", 1)[0].lower()


def open_store(url: str) -> Store:
    """Return the sync store for ``url``."""
    scheme = _scheme(url)
    if scheme == "memory":
        return MemoryStore()
    if scheme == "sqlite":
        return SQLiteStore(_sqlite_path(url) or ":memory:")
    if scheme == "file":
        path = _local_path(url)
        if not path:
            raise ConfigError("file:// needs a directory: file:///var/lib/app/sessions")
        return FileStore(path)
    if scheme in _SERVER_STORES:
        store: Store = _server_factory(scheme, url, 0)
        return store
    if scheme == "cookie":
        raise ConfigError(
            "cookie:// is a backend, not a store: pass it to SessionMiddleware(store='cookie://') "
            "or, in Flask, to init_app(app, store='cookie://')"
        )
    raise ConfigError(f"unknown session store scheme {scheme!r} in {url!r}")


def open_async_store(url: str) -> AsyncStore:
    """Return the async store for ``url``."""
    scheme = _scheme(url)
    if scheme in _SERVER_STORES:
        store: AsyncStore = _server_factory(scheme, url, 1)
        return store
    if scheme == "memory":
        return open_async_memory()
    if scheme == "sqlite":
        return open_async_sqlite(_sqlite_path(url) or ":memory:")
    if scheme == "file":
        path = _local_path(url)
        if not path:
            raise ConfigError("file:// needs a directory: file:///var/lib/app/sessions")
        return open_async_file(path)
    open_store(url)  # raises the right ConfigError for cookie:// and unknown schemes
    raise AssertionError("unreachable")
