"""The sans-IO session engine: which store operation a request needs, and which cookie.

A request goes through three steps, and only the backend does I/O between them::

    verified = engine.verify(cookie_headers)     # no I/O; None: no store read at all
    record = store.load(verified.key)            # the backend's one read
    session = engine.open(verified, record)      # liveness is enforced here
    ... the application uses session ...
    outcome = engine.finish(session)             # one typed outcome (core.outcomes):
                                                 # Nothing, Create, Update, Touch,
                                                 # Delete or Replace, with its cookie

Every rule about deadlines, refresh, liveness and size comes from
``core.lifecycle.Lifecycle`` (``Lifecycle.step`` picks the step, the encrypted-cookie
engine uses the same): this module only turns a step into a store operation, a token
and a cookie.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from typing import TypeVar, overload

from websession.config import SessionConfig
from websession.core.cookies import SetCookie, cookie_values
from websession.core.lifecycle import Deadlines, Lifecycle, Step
from websession.core.outcomes import (
    Create,
    Delete,
    Nothing,
    Op,
    Outcome,
    Replace,
    Touch,
    Update,
)
from websession.core.session import Session
from websession.core.signing import Signer, Verified
from websession.core.tokens import hash_token, new_token
from websession.types import Changes, Clock, Record, SessionKey

S = TypeVar("S", bound=Session)

__all__ = ["Op", "Outcome", "SessionEngine", "session_cookie"]

_NOTHING = Nothing()

VERIFIED_KEPT = 1024
"""Verified cookie values an engine remembers (about 400 bytes each): a browser sends
the same value on every request, so its HMAC and store-key hash are computed once per
engine, not once per request. Only values that verified are kept: a forged value costs
its MAC every time, and lookups are by the whole value (no timing signal)."""


def session_cookie(config: SessionConfig, value: str, max_age: int | None) -> SetCookie:
    """The session cookie ``value`` with every attribute the configuration sets
    (``max_age`` None for a browser-session cookie, 0 to delete it)."""
    return SetCookie(
        name=config.cookie_name,
        value=value,
        path=config.cookie_path,
        domain=config.cookie_domain,
        max_age=max_age,
        secure=config.secure,
        http_only=config.http_only,
        same_site=config.same_site,
        partitioned=config.partitioned,
    )


def cookie_max_age(permanent: bool, expires_at: float, now: float) -> int | None:
    """The Max-Age of a session cookie whose idle deadline is ``expires_at`` (None for
    a browser-session cookie)."""
    return max(1, math.ceil(expires_at - now)) if permanent else None


class SessionEngine:
    """Session policy for one configuration: verify, open, finish. No I/O."""

    __slots__ = (
        "_clock",
        "_delete_cookie",
        "_forget",
        "_signer",
        "_verified",
        "config",
        "lifecycle",
    )

    def __init__(self, config: SessionConfig, clock: Clock = time.time) -> None:
        self.config = config
        self.lifecycle = Lifecycle(config)
        """The deadline, refresh, liveness and size rules."""
        self._clock = clock
        self._signer = Signer(config.verifying_secrets)
        self._delete_cookie = session_cookie(config, "", 0)  # frozen: one for every request
        self._forget = Nothing(self._delete_cookie)
        self._verified: dict[str, Verified] = {}
        """Cookie values that verified, exactly as received (at most VERIFIED_KEPT)."""

    # -- request start ---------------------------------------------------------------

    def verify(self, cookie_headers: Iterable[str]) -> Verified | None:
        """Return the first validly signed session token in the Cookie headers, if any.

        A missing, malformed or forged cookie returns None, and then no store is asked.
        A value that verified before (the same string, byte for byte) is not MACed again:
        the engine keeps the last ``VERIFIED_KEPT`` of them with their store keys.
        """
        known = self._verified
        for value in cookie_values(cookie_headers, self.config.cookie_name):
            verified = known.get(value)
            if verified is not None:
                return verified
            verified = self._signer.verify(value)
            if verified is not None:
                if len(known) >= VERIFIED_KEPT:
                    known.clear()  # bounded, and atomic under concurrent threads
                known[value] = verified
                return verified
        return None

    @overload
    def open(self, verified: Verified | None, record: Record | None) -> Session: ...

    @overload
    def open(
        self, verified: Verified | None, record: Record | None, session_class: type[S]
    ) -> S: ...

    def open(
        self,
        verified: Verified | None,
        record: Record | None,
        session_class: type[Session] = Session,
    ) -> Session:
        """Return the session for this request: the stored one if it is live, else a
        fresh anonymous one (an expired or revoked record is never served).
        ``session_class`` is a ``Session`` subclass an integration needs (Flask's)."""
        permanent = self.config.permanent
        if verified is None or not self.lifecycle.is_live(record, self._clock()):
            return session_class() if permanent else session_class(permanent=False)
        return session_class(
            record,
            token=verified.token,
            key=verified.key,
            stale_signature=verified.stale,
            signed=None if verified.stale else verified.signed,
            permanent=permanent,
        )

    # -- request end -------------------------------------------------------------------

    def finish(self, session: Session) -> Outcome:
        """Return the one store operation and the cookie this request needs.

        Raises SessionDataError (nothing written) if the data is not JSON, and its
        subclass SessionTooLarge (413) if it is over ``max_size``.
        """
        now = self._clock()
        step = self.lifecycle.step(session, now)
        if step is Step.NOTHING:
            return _NOTHING
        if step is Step.CREATE:
            return self._create(session, now)
        if step is Step.FORGET:
            return self._forget
        record, key = session.record, session.key
        assert record is not None  # noqa: S101 - the steps left are those of stored sessions
        if key is None:  # destroyed and detached from its record (auth's logout keeps it)
            return self._create(session, now) if step is Step.RENEW else self._forget
        match step:
            case Step.UPDATE:
                return self._update(session, record, key, now)
            case Step.TOUCH:
                expires = self.lifecycle.extended(record, now)
                touched = None  # a browser-session cookie that did not change is not re-sent
                if session.permanent or session.stale_signature:
                    touched = self._cookie_for(session, self._signed(session), expires, now)
                return Touch(key, now, expires, touched, self._delete_cookie)
            case Step.REISSUE:
                signed = self._signed(session)
                return Nothing(self._cookie_for(session, signed, record.expires_at, now))
            case Step.REGENERATE:
                return self._replace(session, key, self.lifecycle.carried(record, now))
            case Step.RENEW:
                return self._replace(session, key, self.lifecycle.new(now))
            case Step.DELETE:
                return Delete(key, self._delete_cookie)

    def _update(self, session: Session, record: Record, key: SessionKey, now: float) -> Update:
        changed, removed, user_changed = session.pending_changes()
        self.lifecycle.check_size(session.data_view())
        expires = self.lifecycle.extended(record, now)
        # positional: last_seen, expires_at, set, remove, set_user, user_id
        changes = Changes(now, expires, changed, removed, user_changed, session.user_id)
        cookie = self._cookie_for(session, self._signed(session), expires, now)
        return Update(key, changes, cookie, self._delete_cookie)

    def _new_token(self, session: Session, deadlines: Deadlines) -> tuple[SessionKey, Record]:
        """Check the size, mint a token for ``session`` and build its record (data
        copied: regenerate() already dropped the CSRF secret)."""
        data = session.data_view()
        self.lifecycle.check_size(data)
        token = new_token()
        key = hash_token(token)
        session.token, session.key = token, key
        session.signed = self._signer.sign(token)
        return key, deadlines.record(dict(data), session.user_id)

    def _create(self, session: Session, now: float) -> Create:
        key, record = self._new_token(session, self.lifecycle.new(now))
        cookie = self._cookie_for(session, session.signed, record.expires_at, now)
        return Create(key, record, cookie)

    def _replace(self, session: Session, old_key: SessionKey, deadlines: Deadlines) -> Replace:
        key, record = self._new_token(session, deadlines)
        now = deadlines.last_seen
        cookie = self._cookie_for(session, session.signed, record.expires_at, now)
        return Replace(old_key, key, record, cookie, self._delete_cookie)

    # -- cookies -----------------------------------------------------------------------

    def _cookie_for(
        self, session: Session, signed: str | None, expires_at: float, now: float
    ) -> SetCookie:
        assert signed is not None  # noqa: S101 - set by _new_token or _signed
        max_age = cookie_max_age(session.permanent, expires_at, now)
        return self._delete_cookie.with_value(signed, max_age)  # the attributes, checked once

    def _signed(self, session: Session) -> str:
        """The session's cookie value: as the browser sent it, unless an older secret
        signed it (then re-signed with the current one)."""
        if session.signed is not None:
            return session.signed
        token = session.token
        assert token is not None  # noqa: S101 - a stored session has its token
        return self._signer.sign(token)

    def delete_cookie(self) -> SetCookie:
        """A Set-Cookie that makes the browser drop the session cookie."""
        return self._delete_cookie

    def cookie_value(self, token: str) -> str:
        """The signed cookie value of ``token`` (for tools and tests)."""
        return self._signer.sign(token)
