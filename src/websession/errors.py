"""The exception tree of websession.

::

    WebsessionError                 base of everything raised on purpose (status 500)
    ├── ConfigError                 bad configuration; the message says what to do
    ├── SessionDataError            a value is not JSON or a key is reserved
    │   │                           (nothing is written)
    │   └── SessionTooLarge         the session is over its size limit (status 413)
    └── StoreError                  a store failed (status 503); always chained from
        ├── StoreUnavailable        the driver's own error: cannot connect
        └── StoreTimeout            a command or connect exceeded its timeout

``ConfigWarning`` (a ``UserWarning``) reports configuration that is probably a mistake
but not invalid, such as an unknown ``WEBSESSION_*`` environment variable.

Every class carries ``status``, the HTTP status an integration answers with.  A bad
signature, an unknown, expired or revoked session is *not* an error: the engine simply
starts a fresh anonymous session.  Messages never contain a session token.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "ConfigWarning",
    "SessionDataError",
    "SessionTooLarge",
    "StoreError",
    "StoreTimeout",
    "StoreUnavailable",
    "WebsessionError",
]


class WebsessionError(Exception):
    """Base class of every error websession raises on purpose."""

    status: int = 500
    code: str = "websession_error"


class ConfigError(WebsessionError, ValueError):
    """The configuration is invalid; the message says how to fix it."""

    code = "config_error"


class ConfigWarning(UserWarning):
    """Configuration that is valid but probably a mistake (an unknown variable)."""


class SessionDataError(WebsessionError, ValueError):
    """Session data cannot be stored: not JSON, a reserved key, or too large."""

    code = "session_data_error"

    def __init__(self, message: str, *, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key


class SessionTooLarge(SessionDataError):
    """The session is over its size limit (``max_size``, or a cookie's 4096 bytes):
    a request to refuse, not a server fault."""

    status = 413
    code = "session_too_large"


class StoreError(WebsessionError):
    """A session store failed; integrations answer 503."""

    status = 503
    code = "store_error"


class StoreUnavailable(StoreError):
    """The store cannot be reached."""

    code = "store_unavailable"


class StoreTimeout(StoreError):
    """A store command or connection exceeded its timeout."""

    code = "store_timeout"
