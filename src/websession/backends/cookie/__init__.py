"""Encrypted cookie sessions: the whole session in the cookie, sealed with AES-256-GCM.

Not a store, a second backend: ``SessionMiddleware(app, store="cookie://", config=...)``
or ``store=CookieBackend(config, revocations="sqlite:///revocations.db")``; for Flask,
``init_app(app, store="cookie://", config=...)`` or ``store=SyncCookieBackend(...)``.
The application sees the same ``request.session`` / ``flask.session`` and
``get_session()``, and both sides read each other's cookies.

=====================  =============================================================
module                 concept
=====================  =============================================================
``codec``              the cookie format: AES-GCM sealing, key ids, key rotation
``engine``             the sans-IO policy (through ``core.lifecycle``) and revocation
``_async/backend``     ``CookieBackend``, the driver (``_sync``: ``SyncCookieBackend``,
                       generated)
``url``                ``cookie://`` URLs
=====================  =============================================================

Stateless cookies cannot be deleted server-side, so revocation is a tiny record per
user in a configured store (``revocations``); only cookies bound to a user
(``session.user_id``) cost that one read per request. Needs the ``cookie`` extra.
"""

from __future__ import annotations

from websession.backends.base import resolve_config
from websession.backends.cookie._async.backend import CookieBackend
from websession.backends.cookie._sync.backend import SyncCookieBackend
from websession.backends.cookie.codec import MAX_COOKIE_BYTES, CookieCodec, Payload
from websession.backends.cookie.engine import (
    MAX_REVOKED_IDS,
    CookieEngine,
    revocation_key,
)
from websession.backends.cookie.url import open_cookie_backend, open_sync_cookie_backend

__all__ = [
    "MAX_COOKIE_BYTES",
    "MAX_REVOKED_IDS",
    "CookieBackend",
    "CookieCodec",
    "CookieEngine",
    "Payload",
    "SyncCookieBackend",
    "open_cookie_backend",
    "open_sync_cookie_backend",
    "resolve_config",
    "revocation_key",
]
