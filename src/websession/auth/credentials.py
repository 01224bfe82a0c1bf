"""Credentials and the request's session: which store key a client names, and how a
login, a password change or a logout changes the request's ``Session``. No I/O.

A credential is a ``Session`` of this request, a signed cookie value, or a raw token;
tools may name a store key itself (``key=``). A login *binds* the request's session
(new token, new lifetime, the user and device recorded); a logout *detaches* it (the
cookie is dropped, the revoked record stays in the store until its deadline).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from websession.auth.users import User
from websession.config import SessionConfig
from websession.core.jsondata import RESERVED_PREFIX
from websession.core.session import DEVICE_KEY, Session
from websession.core.signing import SIGNED_LENGTH, Signer
from websession.core.tokens import TOKEN_LENGTH, hash_token
from websession.types import SessionKey

__all__ = ["Credentials", "IssuedSession", "bind", "detach", "reauthenticated", "session_key"]

_TOKEN_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


@dataclass(frozen=True, slots=True)
class IssuedSession:
    """A session stored by ``login_token``: hand ``token`` to the client."""

    user: User
    token: str
    """The signed token: send it back as the session cookie's value or as a bearer
    token. Shown once; the store keeps only its hash."""
    expires_at: float
    """The idle deadline (Unix seconds); ``refresh_session`` moves it."""


class Credentials:
    """Reads and signs the tokens of one session configuration."""

    def __init__(self, session_config: SessionConfig) -> None:
        self._signer = Signer(session_config.verifying_secrets)

    def sign(self, token: str) -> str:
        """The signed form of a fresh token, as the middleware would set it."""
        return self._signer.sign(token)

    def key_of(
        self, credential: str | Session | None, key: SessionKey | None = None
    ) -> SessionKey | None:
        """The store key a credential names, or None if it names none (malformed,
        forged, or a session that was never stored)."""
        if key is not None:
            if credential is not None:
                raise TypeError("pass a credential or key=, not both")
            return key
        if isinstance(credential, Session):
            return None if credential.is_new else credential.key
        if not isinstance(credential, str):
            raise TypeError("a credential is a Session, a signed cookie value or a token")
        value = credential.strip()
        if len(value) == SIGNED_LENGTH:
            verified = self._signer.verify(value)
            return None if verified is None else verified.key
        if len(value) == TOKEN_LENGTH and _TOKEN_ALPHABET.issuperset(value):
            return hash_token(value)
        return None

    def signed_key(self, cookie: str) -> SessionKey | None:
        """The store key of a cookie value whose signature verifies, else None: what
        a browser sent is never looked up before it is verified (a raw token is not
        accepted here)."""
        value = cookie.strip()
        if len(value) != SIGNED_LENGTH:
            return None
        verified = self._signer.verify(value)
        return None if verified is None else verified.key


def session_key(keep: Session | SessionKey | None) -> SessionKey | None:
    """The store key of a session given as a ``Session`` or a key (None if unsaved)."""
    if isinstance(keep, Session):
        return None if keep.is_new else keep.key
    return keep


def bind(session: Session, user: User, device: dict[str, Any]) -> None:
    """Make ``session`` a fresh login of ``user``: a new token and a new lifetime.

    Anonymous data (a cart) is kept when the session had no other user; websession's
    own keys (CSRF secret, old device data) never are.
    """
    previous = session.user_id
    kept = (
        {}
        if previous not in (None, user.id)
        else {k: v for k, v in session.data_view().items() if not k.startswith(RESERVED_PREFIX)}
    )
    session.destroy()  # the old record goes, a new one with a new token replaces it
    for name, value in kept.items():
        session[name] = value
    session.user_id = user.id
    session.set_internal(DEVICE_KEY, device)


def reauthenticated(session: Session, now: float) -> None:
    """Rotate ``session``'s token and note that the password was just proven."""
    info = session.get_internal(DEVICE_KEY)
    info = dict(info) if isinstance(info, dict) else {}
    info["auth_at"] = now
    info["last_seen"] = now
    session.set_internal(DEVICE_KEY, info)
    session.regenerate()


def detach(session: Session) -> None:
    """End ``session`` in this request without deleting its (revoked) record.

    ``destroy()`` with no key left to delete: the middleware expires the cookie, and
    data set afterwards (a flash message) goes into a brand-new session.
    """
    session.destroy()
    session.key = None
    session.token = None
    session.signed = None
