"""websession: server-side web sessions for any ASGI app, fast and secure by default.

>>> from websession import SessionConfig, SessionMiddleware
>>> app.add_middleware(SessionMiddleware, store="sqlite:///sessions.db",
...                    config=SessionConfig.production(secret=...))  # doctest: +SKIP

This module imports no optional driver.
"""

from __future__ import annotations

from websession.backends import AsyncSessionBackend, SessionBackend
from websession.backends.cookie import CookieBackend, SyncCookieBackend
from websession.config import Secret, SessionConfig
from websession.core.cookies import SetCookie
from websession.core.csrf import CSRFError
from websession.core.engine import Op, Outcome, SessionEngine
from websession.core.session import Session
from websession.errors import (
    ConfigError,
    ConfigWarning,
    SessionDataError,
    SessionTooLarge,
    StoreError,
    StoreTimeout,
    StoreUnavailable,
    WebsessionError,
)
from websession.integrations.asgi import SessionMiddleware, get_session
from websession.integrations.csrf import CSRFMiddleware, csrf_input, csrf_meta, csrf_token
from websession.stores import AsyncStore, Store, open_async_store, open_store
from websession.types import Changes, Record, SessionKey

__all__ = [
    "AsyncSessionBackend",
    "AsyncStore",
    "CSRFError",
    "CSRFMiddleware",
    "Changes",
    "ConfigError",
    "ConfigWarning",
    "CookieBackend",
    "Op",
    "Outcome",
    "Record",
    "Secret",
    "Session",
    "SessionBackend",
    "SessionConfig",
    "SessionDataError",
    "SessionEngine",
    "SessionKey",
    "SessionMiddleware",
    "SessionTooLarge",
    "SetCookie",
    "Store",
    "StoreError",
    "StoreTimeout",
    "StoreUnavailable",
    "SyncCookieBackend",
    "WebsessionError",
    "csrf_input",
    "csrf_meta",
    "csrf_token",
    "get_session",
    "open_async_store",
    "open_store",
]

__version__ = "0.1.0"
