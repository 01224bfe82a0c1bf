"""The sans-IO session engine: which store operation a request needs, and which cookie.

A request goes through three steps, and only the integration does I/O between them::

    verified = engine.verify(cookie_headers)     # no I/O; None: no store read at all
    record = store.load(hash(verified.token))    # the integration's one read
    session = engine.open(verified, record)      # expiry is enforced here
    ... the application uses session ...
    outcome = engine.finish(session)             # one Outcome: NOTHING, CREATE, UPDATE,
                                                 # TOUCH, DELETE or REPLACE, plus cookie

Rules, in order, in ``finish``:

* destroyed: DELETE the old record and expire the cookie; if data was set after
  ``destroy()`` it goes into a new session (REPLACE old -> new);
* new and empty: NOTHING (anonymous visitors create no records);
* new with data: CREATE with a fresh token;
* regenerated: REPLACE (create the new key, delete the old one in one step);
* modified: UPDATE with a patch of the changed keys;
* untouched but past the refresh threshold: TOUCH (new deadline, no data);
* untouched: NOTHING, or only a re-signed cookie after a secret rotation.

Expiry is enforced on read: a record past its idle or absolute deadline, or marked
revoked, is never served, whatever the store still holds. Refresh never moves past
the absolute deadline.
"""

from __future__ import annotations

import enum
import math
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TypeVar, overload

from websession.config import SessionConfig
from websession.core.cookies import SetCookie, cookie_values
from websession.core.jsondata import check_value, dumps
from websession.core.session import REVOKED_KEY, Session
from websession.core.signing import Signer, Verified
from websession.core.tokens import hash_token, new_token
from websession.errors import SessionDataError
from websession.types import Changes, Clock, Record, SessionKey

S = TypeVar("S", bound=Session)

__all__ = ["Op", "Outcome", "SessionEngine", "session_cookie", "too_large"]


class Op(enum.Enum):
    """The one store operation a finished request needs."""

    NOTHING = "nothing"
    CREATE = "create"
    UPDATE = "update"
    TOUCH = "touch"
    DELETE = "delete"
    REPLACE = "replace"


@dataclass(frozen=True, slots=True)
class Outcome:
    """What to do with the store, and the cookie to send once it succeeded.

    ``key`` is the record to create, update, touch or delete; for REPLACE it is the new
    key and ``old_key`` the one to delete. ``gone_cookie`` is sent instead of ``cookie``
    when UPDATE or TOUCH find the record gone (logged out elsewhere): nothing is
    resurrected and the browser drops the dead cookie.
    """

    op: Op
    cookie: SetCookie | None = None
    key: SessionKey | None = None
    record: Record | None = None
    changes: Changes | None = None
    old_key: SessionKey | None = None
    gone_cookie: SetCookie | None = None

    @property
    def sets_cookie(self) -> bool:
        """True if a Set-Cookie header will be sent."""
        return self.cookie is not None


_NOTHING = Outcome(Op.NOTHING)


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


def too_large(message: str, *, key: str | None = None) -> SessionDataError:
    """A SessionDataError for a session over its size limit, answered with 413: data
    that grew past the limit is a request to refuse, not a server fault."""
    error = SessionDataError(message, key=key)
    error.status = 413
    return error


class SessionEngine:
    """Session policy for one configuration: verify, open, finish. No I/O."""

    __slots__ = (
        "_absolute",
        "_clock",
        "_delete_cookie",
        "_idle",
        "_refresh_after",
        "_signer",
        "config",
    )

    def __init__(self, config: SessionConfig, clock: Clock = time.time) -> None:
        self.config = config
        self._clock = clock
        self._signer = Signer(config.verifying_secrets)
        self._idle = config.idle_timeout.total_seconds()
        self._absolute = config.absolute_timeout.total_seconds()
        self._refresh_after = self._idle * config.refresh_threshold
        self._delete_cookie = session_cookie(config, "", 0)  # frozen: one for every request

    def now(self) -> float:
        """The engine's clock."""
        return self._clock()

    # -- request start ---------------------------------------------------------------

    def verify(self, cookie_headers: Iterable[str]) -> Verified | None:
        """Return the first validly signed session token in the Cookie headers, if any.

        A missing, malformed or forged cookie returns None, and then no store is asked.
        """
        for value in cookie_values(cookie_headers, self.config.cookie_name):
            verified = self._signer.verify(value)
            if verified is not None:
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
        """Return the session for this request: the stored one if it is still valid,
        else a fresh anonymous one. An expired record is ignored (never served).
        ``session_class`` is a ``Session`` subclass an integration needs (Flask's)."""
        if verified is None or record is None:
            return session_class()
        now = self._clock()
        if (
            now >= record.expires_at
            or now >= record.absolute_expires_at
            or REVOKED_KEY in record.data
        ):
            return session_class()
        return session_class(
            record,
            token=verified.token,
            key=verified.key,
            stale_signature=verified.stale,
            signed=None if verified.stale else verified.signed,
        )

    # -- request end -------------------------------------------------------------------

    def finish(self, session: Session) -> Outcome:
        """Return the one store operation and the cookie this request needs.

        Raises SessionDataError (nothing written) if the data is not JSON or too large.
        """
        record = session.record
        if session.destroyed:
            return self._after_destroy(session)
        if record is None:
            if not session.data_view() and session.user_id is None:
                return _NOTHING
            return self._create(session)
        key = session.key
        assert key is not None  # noqa: S101 - a stored session always has its key
        if session.regenerating:
            return self._replace(session, record, key)
        now = self._clock()
        changed, removed, user_changed = session.pending_changes()
        if changed or removed or user_changed:
            self._check_size(session)
            expires = min(now + self._idle, record.absolute_expires_at)
            changes = Changes(
                last_seen=now,
                expires_at=expires,
                set=changed,
                remove=removed,
                set_user=user_changed,
                user_id=session.user_id,
            )
            return Outcome(
                Op.UPDATE,
                cookie=self._cookie_for(self._signed(session), expires, now),
                key=key,
                changes=changes,
                gone_cookie=self.delete_cookie(),
            )
        expires = min(now + self._idle, record.absolute_expires_at)
        if now - (record.expires_at - self._idle) >= self._refresh_after and (
            expires > record.expires_at
        ):
            return Outcome(
                Op.TOUCH,
                cookie=self._cookie_for(self._signed(session), expires, now),
                key=key,
                changes=Changes(last_seen=now, expires_at=expires),
                gone_cookie=self.delete_cookie(),
            )
        if session.stale_signature:
            return Outcome(
                Op.NOTHING,
                cookie=self._cookie_for(self._signed(session), record.expires_at, now),
            )
        return _NOTHING

    def _after_destroy(self, session: Session) -> Outcome:
        old_key = session.key
        if session.data_view() or session.user_id is not None:
            if old_key is None:
                return self._create(session)
            return self._replace(session, None, old_key)
        if old_key is None:
            return Outcome(Op.NOTHING, cookie=self.delete_cookie())
        return Outcome(Op.DELETE, cookie=self.delete_cookie(), key=old_key)

    def _new_record(self, session: Session, base: Record | None) -> tuple[str, Record]:
        self._check_size(session)
        now = self._clock()
        if base is None:
            created, absolute = now, now + self._absolute
        else:
            created, absolute = base.created_at, base.absolute_expires_at
        data = dict(session.data_view())  # regenerate() already dropped the CSRF secret
        record = Record(
            data=data,
            created_at=created,
            last_seen=now,
            expires_at=min(now + self._idle, absolute),
            absolute_expires_at=absolute,
            user_id=session.user_id,
        )
        return new_token(), record

    def _create(self, session: Session) -> Outcome:
        token, record = self._new_record(session, None)
        key = hash_token(token)
        session.token, session.key = token, key
        session.signed = self._signer.sign(token)
        return Outcome(
            Op.CREATE,
            cookie=self._cookie_for(session.signed, record.expires_at, record.last_seen),
            key=key,
            record=record,
        )

    def _replace(self, session: Session, base: Record | None, old_key: SessionKey) -> Outcome:
        token, record = self._new_record(session, base)
        key = hash_token(token)
        session.token, session.key = token, key
        session.signed = self._signer.sign(token)
        return Outcome(
            Op.REPLACE,
            cookie=self._cookie_for(session.signed, record.expires_at, record.last_seen),
            key=key,
            record=record,
            old_key=old_key,
        )

    def _check_size(self, session: Session) -> None:
        data = session.data_view()
        try:
            size = len(dumps(data))
        except TypeError:  # a value was mutated into something that is not JSON
            for name, value in data.items():
                check_value(name, value)
            raise SessionDataError("session data is not JSON") from None
        if size > self.config.max_size:
            largest = max(data, key=lambda name: len(dumps(data[name])))
            raise too_large(
                f"session data is {size} bytes, over max_size={self.config.max_size}; "
                f"the largest value is under key {largest!r}",
                key=largest,
            )

    # -- cookies -----------------------------------------------------------------------

    def _cookie_for(self, signed: str, expires_at: float, now: float) -> SetCookie:
        config = self.config
        max_age = max(1, math.ceil(expires_at - now)) if config.permanent else None
        return session_cookie(config, signed, max_age)

    def _signed(self, session: Session) -> str:
        """The session's cookie value: as the browser sent it, unless an older secret
        signed it (then re-signed with the current one)."""
        if session.signed is not None:
            return session.signed
        return self._signer.sign(session.token)  # type: ignore[arg-type]

    def delete_cookie(self) -> SetCookie:
        """A Set-Cookie that makes the browser drop the session cookie."""
        return self._delete_cookie

    def cookie_value(self, token: str) -> str:
        """The signed cookie value of ``token`` (for tools and tests)."""
        return self._signer.sign(token)
