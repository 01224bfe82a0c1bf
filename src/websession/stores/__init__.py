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
``dual://?new=<URL>&old=<URL>``        reads new then old, writes new: a switch-over
                                       between stores (``websession.stores.dual``)
=====================================  ==============================================

``cookie://`` is not a store but a backend (``websession.backends.cookie``): the
session travels in an encrypted cookie; ``SessionMiddleware`` and Flask's ``init_app``
accept it as ``store``.

``open_store(url)`` gives the sync form, ``open_async_store(url)`` the async form.
A server store's driver is imported only when its URL is used. URLs are read by
``websession.stores.url``, the one parser session stores and user stores share.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from websession.errors import ConfigError
from websession.stores.base import AsyncStore, Store
from websession.stores.file import FileStore, open_async_file
from websession.stores.memory import MemoryStore, open_async_memory
from websession.stores.sqlite import SQLiteStore, open_async_sqlite
from websession.stores.url import local_path, scheme, sqlite_path

__all__ = [
    "AsyncStore",
    "FileStore",
    "MemoryStore",
    "SQLiteStore",
    "Store",
    "open_async_store",
    "open_store",
]

_EXAMPLE = "'sqlite:///sessions.db' or 'redis://host:6379/0'"

# scheme -> (module, extra): server stores, imported only when their URL is used; the
# module has open_sync(url) and open_async(url).
_SERVER_STORES: dict[str, tuple[str, str]] = {
    "redis": ("websession.stores.redis", "redis"),
    "rediss": ("websession.stores.redis", "redis"),
    "redis+cluster": ("websession.stores.redis", "redis"),
    "valkey": ("websession.stores.redis", "redis"),
    "postgresql": ("websession.stores.postgres", "postgres"),
    "postgres": ("websession.stores.postgres", "postgres"),
    "dual": ("websession.stores.dual", "dual"),  # no driver of its own: never fails
}

Opener = Callable[[str], Any]

# scheme -> (sync opener, async opener): the embedded stores.
_EMBEDDED: dict[str, tuple[Opener, Opener]] = {
    "memory": (lambda url: MemoryStore(), lambda url: open_async_memory()),
    "sqlite": (
        lambda url: SQLiteStore(sqlite_path(url)),
        lambda url: open_async_sqlite(sqlite_path(url)),
    ),
    "file": (lambda url: FileStore(_directory(url)), lambda url: open_async_file(_directory(url))),
}


def _directory(url: str) -> str:
    path = local_path(url)
    if not path:
        raise ConfigError("file:// needs a directory: file:///var/lib/app/sessions")
    return path


def _opener(url: str, which: int) -> Opener:
    """The factory for ``url``'s scheme: 0 sync, 1 async."""
    kind = scheme(url, what="store", example=_EXAMPLE)
    if kind in _EMBEDDED:
        return _EMBEDDED[kind][which]
    if kind in _SERVER_STORES:
        module_name, extra = _SERVER_STORES[kind]
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            raise ConfigError(
                f"{kind}:// needs the {extra!r} extra: pip install 'websession[{extra}]'"
            ) from exc
        opener: Opener = module.open_async if which else module.open_sync
        return opener
    if kind == "cookie":
        raise ConfigError(
            "cookie:// is a backend, not a store: pass it to SessionMiddleware(store='cookie://') "
            "or, in Flask, to init_app(app, store='cookie://')"
        )
    raise ConfigError(f"unknown session store scheme {kind!r} in {url!r}")


def open_store(url: str) -> Store:
    """Return the sync store for ``url``."""
    store: Store = _opener(url, 0)(url)
    return store


def open_async_store(url: str) -> AsyncStore:
    """Return the async store for ``url``."""
    store: AsyncStore = _opener(url, 1)(url)
    return store
