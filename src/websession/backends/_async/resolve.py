"""The one resolver: a store URL, a store object or a backend, plus a config, becomes
the backend an integration drives."""

from __future__ import annotations

import time

from websession.backends._async.interface import AsyncSessionBackend
from websession.backends._async.store import AsyncStoreBackend
from websession.backends.base import is_cookie_url, require_async, resolve_config
from websession.backends.cookie._async.backend import CookieBackend
from websession.backends.cookie.url import revocations_of
from websession.config import SessionConfig
from websession.stores import open_async_store
from websession.stores.base import AsyncStore
from websession.types import Clock

__all__ = ["open_async_backend"]


def open_async_backend(
    store: str | AsyncStore | AsyncSessionBackend,
    config: SessionConfig | None = None,
    *,
    clock: Clock = time.time,
) -> AsyncSessionBackend:
    """Return the backend for ``store``: a store URL (``cookie://`` for encrypted
    cookies), a store object, or a backend (returned as it is; ``config`` may only
    repeat its own). ``config`` defaults to ``SessionConfig.from_env(os.environ)``."""
    config = resolve_config(store, config)
    if isinstance(store, str):
        if is_cookie_url(store):
            return CookieBackend(config, revocations=revocations_of(store), clock=clock)
        return AsyncStoreBackend(open_async_store(store), config, clock=clock)
    if isinstance(store, AsyncSessionBackend):
        require_async(store)
        return store
    return AsyncStoreBackend(store, config, clock=clock)
