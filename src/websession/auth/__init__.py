"""websession.auth: users, passwords, login, logout everywhere, and active devices.

Needs the ``auth`` extra (argon2-cffi): ``pip install 'websession[auth]'``.

>>> from websession.auth import AsyncAuth, AuthConfig  # doctest: +SKIP
>>> auth = AsyncAuth(sessions, "sqlite:///users.db", session_config=config,
...                  config=AuthConfig.production())  # doctest: +SKIP

``AsyncAuth`` and ``Auth`` are the service (async and sync); the web helpers live in
``websession.auth.web`` (Starlette) and ``websession.auth.fastapi`` (FastAPI), which
import their framework only when imported themselves.
"""

from __future__ import annotations

from websession.auth.config import AuthConfig
from websession.auth.devices import AuthenticatedSession, Device
from websession.auth.errors import (
    AuthenticationRequired,
    AuthError,
    InvalidCredentials,
    InvalidInput,
    InvalidSession,
    ReauthenticationRequired,
    SessionExpired,
    SessionRevoked,
    TooManyAttempts,
    UserExists,
    error_json,
)
from websession.auth.passwords import PasswordHasher
from websession.auth.service import AsyncAuth, Auth, IssuedSession
from websession.auth.users import AsyncUserStore, User, UserStore
from websession.auth.userstores import open_async_user_store, open_user_store
from websession.errors import StoreError

__all__ = [
    "AsyncAuth",
    "AsyncUserStore",
    "Auth",
    "AuthConfig",
    "AuthError",
    "AuthenticatedSession",
    "AuthenticationRequired",
    "Device",
    "InvalidCredentials",
    "InvalidInput",
    "InvalidSession",
    "IssuedSession",
    "PasswordHasher",
    "ReauthenticationRequired",
    "SessionExpired",
    "SessionRevoked",
    "StoreError",
    "TooManyAttempts",
    "User",
    "UserExists",
    "UserStore",
    "error_json",
    "open_async_user_store",
    "open_user_store",
]
