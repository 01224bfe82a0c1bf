# Generated from ../_async/service.py by scripts/generate_sync.py: do not edit.
"""The auth service: ``AsyncAuth`` is registration and login, signed-in sessions, and
password change, over one session store and one user store."""

from __future__ import annotations

from websession.auth._sync.login import Login
from websession.auth._sync.revocation import revoke_user
from websession.auth._sync.sessions import Sessions
from websession.auth.credentials import reauthenticated, session_key
from websession.auth.errors import InvalidCredentials
from websession.auth.passwords import check_password
from websession.core.session import Session

__all__ = ["Auth"]


class Auth(Login, Sessions):
    """The auth service (``AsyncAuth`` for async code, ``Auth`` for WSGI apps and
    scripts: the same methods, generated from one source).

    ``sessions`` is the session store (a store or a URL), normally the one the session
    middleware uses; it must have the per-user index ability (``UserIndex``), else
    ConfigError. ``users`` is the user store (a user store or a URL, see
    ``websession.auth.userstores``). ``session_config`` must be the middleware's, so
    tokens and deadlines agree. ``config`` defaults to ``AuthConfig.production()``.
    Stores given as URLs are closed by ``close()``.
    """

    def change_password(
        self,
        user_id: str,
        current_password: str,
        new_password: str,
        *,
        session: Session | None = None,
        ip: str | None = None,
    ) -> int:
        """Change a password after checking the current one, and revoke every other
        session of the user; return how many.

        ``session`` (the request's) stays signed in with a new token, and counts as a
        fresh authentication. Raises InvalidInput (``field="new_password"``),
        InvalidCredentials or TooManyAttempts (failures count as failed logins).
        """
        user = self.users.get(user_id)
        if user is None:
            raise InvalidCredentials
        secret = check_password(
            new_password, self.config, field="new_password", username=user.username
        )
        user = self._check_credentials(user.username, current_password, ip)
        if user.id != user_id:  # the name now belongs to someone else
            raise InvalidCredentials
        new_hash = self.hashing.hash(secret)
        if not self.users.set_password(
            user_id, old_hash=user.password_hash, new_hash=new_hash, changed_at=self.clock()
        ):  # changed meanwhile by another request: prove the new one
            raise InvalidCredentials
        revoked = revoke_user(self.sessions, user_id, self.clock(), keep=session_key(session))
        if session is not None and not session.is_new:
            reauthenticated(session, self.clock())
        return revoked
