"""The errors of the auth layer: stable codes, an HTTP status, a message safe to show.

::

    WebsessionError (websession.errors)
    ├── StoreError                      503 store_error: a store failed (reused as is)
    └── AuthError                       400 auth_error
        ├── InvalidCredentials          401 invalid_credentials
        ├── InvalidSession              401 invalid_session: unknown, malformed or
        │   │                               not signed in
        │   ├── SessionExpired          401 session_expired
        │   └── SessionRevoked          401 session_revoked: logged out (a replay)
        ├── AuthenticationRequired      401 authentication_required: no session at all
        ├── ReauthenticationRequired    401 reauthentication_required: the login is
        │                                   older than a sensitive action allows
        ├── InvalidInput                422 invalid_input (``field`` names the input)
        ├── UserExists                  409 user_exists
        └── TooManyAttempts             429 too_many_attempts (``retry_after`` seconds)

``code`` never changes once released: clients branch on it. ``str(error)`` is the
message, written for the end user; it never contains a password, token or session
key. ``to_json()`` (or ``error_json(exc)`` for any ``WebsessionError``) gives the body
``{"error": {"code": ..., "message": ...}}`` that the web helpers answer with.
"""

from __future__ import annotations

from typing import Any, ClassVar

from websession.errors import StoreError, WebsessionError

__all__ = [
    "AuthError",
    "AuthenticationRequired",
    "InvalidCredentials",
    "InvalidInput",
    "InvalidSession",
    "ReauthenticationRequired",
    "SessionExpired",
    "SessionRevoked",
    "TooManyAttempts",
    "UserExists",
    "error_json",
]

STORE_MESSAGE = "The session store is unavailable. Please try again shortly."


class AuthError(WebsessionError):
    """Base of the auth errors; ``message`` is safe to show to the end user."""

    status = 400
    code = "auth_error"
    default_message: ClassVar[str] = "The request could not be authenticated."

    def __init__(self, message: str | None = None) -> None:
        self.message = message if message is not None else self.default_message
        super().__init__(self.message)

    def to_json(self) -> dict[str, Any]:
        """The JSON error body: ``{"error": {"code": ..., "message": ...}}``."""
        return {"error": {"code": self.code, "message": self.message}}


class InvalidCredentials(AuthError):
    """The username or password is wrong (the message never says which)."""

    status = 401
    code = "invalid_credentials"
    default_message = "The username or password is incorrect."


class InvalidSession(AuthError):
    """The session is unknown, malformed, or not signed in to any user."""

    status = 401
    code = "invalid_session"
    default_message = "The session is not valid. Please log in."


class SessionExpired(InvalidSession):
    """The session passed its idle or absolute deadline."""

    code = "session_expired"
    default_message = "Your session has expired. Please log in again."


class SessionRevoked(InvalidSession):
    """The session was logged out (here or by logout everywhere); this is a replay."""

    code = "session_revoked"
    default_message = "This session was signed out. Please log in again."


class AuthenticationRequired(AuthError):
    """The request carries no signed-in session at all."""

    status = 401
    code = "authentication_required"
    default_message = "Please log in to continue."


class ReauthenticationRequired(AuthError):
    """The login is older than a sensitive action allows: log in again."""

    status = 401
    code = "reauthentication_required"
    default_message = "Please log in again to continue."


class InvalidInput(AuthError):
    """A username or password does not meet the rules; ``field`` names the input."""

    status = 422
    code = "invalid_input"
    default_message = "The input is not valid."

    def __init__(self, message: str | None = None, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field

    def to_json(self) -> dict[str, Any]:
        """The JSON error body, with ``field`` when one input is at fault."""
        body = super().to_json()
        if self.field is not None:
            body["error"]["field"] = self.field
        return body


class UserExists(AuthError):
    """Registration chose a username that is taken."""

    status = 409
    code = "user_exists"
    default_message = "That username is already taken."


class TooManyAttempts(AuthError):
    """Too many failed logins for this account or client address.

    ``retry_after`` is the number of seconds until the next attempt is allowed (the
    ``Retry-After`` header); ``scope`` says which limit was hit: ``account`` or
    ``address``.
    """

    status = 429
    code = "too_many_attempts"

    def __init__(self, retry_after: int, *, scope: str = "account") -> None:
        self.retry_after = max(1, int(retry_after))
        self.scope = scope
        super().__init__(f"Too many failed attempts. Try again in {_duration(self.retry_after)}.")

    def to_json(self) -> dict[str, Any]:
        """The JSON error body, with ``retry_after`` in seconds."""
        body = super().to_json()
        body["error"]["retry_after"] = self.retry_after
        return body


def error_json(exc: WebsessionError) -> dict[str, Any]:
    """The JSON error body for any websession error, with a message safe to show.

    Auth errors carry their own message; a ``StoreError`` gets a generic one (its own
    text is for logs); any other error gets a generic one too.
    """
    if isinstance(exc, AuthError):
        return exc.to_json()
    message = STORE_MESSAGE if isinstance(exc, StoreError) else "Something went wrong."
    return {"error": {"code": exc.code, "message": message}}


def _duration(seconds: int) -> str:
    if seconds < 120:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = (seconds + 59) // 60
    return f"{minutes} minutes"
