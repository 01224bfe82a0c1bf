"""Backends: where sessions are kept, behind the one interface integrations drive.

=========================  =================================================  ==========
backend                    keeps sessions                                     chosen by
=========================  =================================================  ==========
``AsyncStoreBackend`` /    in a store (``websession.stores``), keyed by the   any store
``StoreBackend``           hash of the signed cookie's token                  URL/object
``CookieBackend`` /        in the browser, sealed with AES-GCM, revocations   ``cookie://``
``SyncCookieBackend``      in a store (``websession.backends.cookie``)
=========================  =================================================  ==========

Both implement ``AsyncSessionBackend`` / ``SessionBackend``: ``open(cookie_headers,
session_class) -> Session``, ``save(session) -> SetCookie | None``, ``close()``.
``open_async_backend`` / ``open_backend`` turn a URL, a store or a backend (plus a
config) into one. The sync drivers (``_sync``) are generated from the async ones.
The cookie backend needs the ``cookie`` extra only when it is used.
"""

from __future__ import annotations

from websession.backends._async.interface import AsyncSessionBackend
from websession.backends._async.resolve import open_async_backend
from websession.backends._async.store import AsyncStoreBackend
from websession.backends._sync.interface import SessionBackend
from websession.backends._sync.resolve import open_backend
from websession.backends._sync.store import StoreBackend

__all__ = [
    "AsyncSessionBackend",
    "AsyncStoreBackend",
    "SessionBackend",
    "StoreBackend",
    "open_async_backend",
    "open_backend",
]
