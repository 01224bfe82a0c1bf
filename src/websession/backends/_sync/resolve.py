# Generated from ../_async/resolve.py by scripts/generate_sync.py: do not edit.
"""The one resolver: a store URL, a store object or a backend, plus a config, becomes
the backend an integration drives."""

from __future__ import annotations

import time

from websession.backends._sync.interface import SessionBackend
from websession.backends._sync.store import StoreBackend
from websession.backends.base import is_cookie_url, require_sync, resolve_config
from websession.backends.cookie._sync.backend import SyncCookieBackend
from websession.backends.cookie.url import revocations_of
from websession.config import SessionConfig
from websession.stores import open_store
from websession.stores.base import Store
from websession.types import Clock

__all__ = ["open_backend"]


def open_backend(
    store: str | Store | SessionBackend,
    config: SessionConfig | None = None,
    *,
    clock: Clock = time.time,
) -> SessionBackend:
    """Return the backend for ``store``: a store URL (``cookie://`` for encrypted
    cookies), a store object, or a backend (returned as it is; ``config`` may only
    repeat its own). ``config`` defaults to ``SessionConfig.from_env(os.environ)``."""
    config = resolve_config(store, config)
    if isinstance(store, str):
        if is_cookie_url(store):
            return SyncCookieBackend(config, revocations=revocations_of(store), clock=clock)
        return StoreBackend(open_store(store), config, clock=clock)
    if isinstance(store, SessionBackend):
        require_sync(store)
        return store
    return StoreBackend(store, config, clock=clock)
