"""The sans-IO policy of encrypted-cookie sessions.

Every deadline, refresh, liveness and size rule comes from ``core.lifecycle`` (the
step a request needs is ``Lifecycle.step``, as for store-backed sessions), so the two
backends cannot drift apart. This module maps a step onto sealing a cookie and
decides revocation; the drivers (``CookieBackend`` / ``SyncCookieBackend``) only add
the revocation store's calls.

Revocation: stateless cookies cannot be deleted server-side, so each user has one small
record (key ``record_key("revocation", user_id)``) saying "sessions issued until T" (``b``)
and naming single sessions logged out (``s:<id>``, each until it would have expired
anyway). Past ``MAX_REVOKED_IDS`` live ids the record switches to "every session issued
before this one" and forgets the ids, so it stays small; the session being issued by
that very request survives (it is issued just after the revocation time).
"""

from __future__ import annotations

import math
import secrets
import time
from collections.abc import Iterable
from typing import Any, NamedTuple

from websession.backends.cookie.codec import MAX_COOKIE_BYTES, CookieCodec, Payload, finite
from websession.config import SessionConfig
from websession.core.cookies import SetCookie, cookie_values
from websession.core.engine import cookie_max_age, session_cookie
from websession.core.lifecycle import Deadlines, Lifecycle, Step
from websession.core.session import Session
from websession.errors import ConfigError, SessionTooLarge
from websession.stores.base import record_key
from websession.types import Changes, Clock, Record, SessionKey

__all__ = ["MAX_REVOKED_IDS", "CookieEngine", "Finished", "revocation_key"]

MAX_REVOKED_IDS = 64
"""Single-session revocations a user's record names before it switches to "every
session issued before now" (the user is then logged out on every other device)."""
_RECORD_HORIZON = 10 * 365 * 86400.0


def revocation_key(user_id: str) -> SessionKey:
    """The store key of a user's revocation record (never a session key)."""
    return record_key("revocation", user_id)


class Finished(NamedTuple):
    """What a finished cookie request needs: the cookie to send, the user-bound session
    it ended (logout, regenerate: to revoke), and when that happened."""

    cookie: SetCookie | None
    ended: Payload | None = None
    at: float = 0.0


_UNCHANGED = Finished(None)


class CookieEngine:
    """Opening and checking cookies, deciding on revocation, sealing the cookie to
    send. No I/O: the drivers call the revocation store."""

    def __init__(self, config: SessionConfig, *, clock: Clock = time.time) -> None:
        self.config = config
        self.codec = CookieCodec(config.verifying_secrets, config.cookie_name)
        self.lifecycle = Lifecycle(config)
        self.clock = clock
        self._delete_cookie = session_cookie(config, "", 0)

    def read(self, cookie_headers: Iterable[str]) -> Payload | None:
        """Return the first cookie that opens and is live, else None."""
        now = self.clock()
        for value in cookie_values(cookie_headers, self.config.cookie_name):
            payload = self.codec.open(value)
            if payload is not None and self.lifecycle.is_live(payload.record, now):
                return payload
        return None

    @staticmethod
    def revocation_to_check(payload: Payload | None) -> SessionKey | None:
        """The revocation record to read for this cookie: only a user-bound one has one
        (anonymous cookie sessions cost no I/O)."""
        if payload is None or payload.record.user_id is None:
            return None
        return revocation_key(payload.record.user_id)

    def is_revoked(self, payload: Payload, revocation: Record | None) -> bool:
        """True if ``revocation`` (the user's record) rules this cookie out."""
        if revocation is None or not self.lifecycle.within_deadlines(revocation, self.clock()):
            return False
        before: Any = revocation.data.get("b")
        if finite(before) and payload.issued_at <= before:
            return True
        return "s:" + payload.sid in revocation.data

    def open(
        self,
        payload: Payload | None,
        revocation: Record | None,
        session_class: type[Session] = Session,
    ) -> Session:
        """The request's session: the cookie's unless ``revocation`` rules it out, else
        a fresh anonymous one of ``session_class``. The payload is its ``origin``."""
        permanent = self.config.permanent
        if payload is None or self.is_revoked(payload, revocation):
            return session_class(permanent=permanent)
        return session_class(
            payload.record, stale_signature=payload.stale, origin=payload, permanent=permanent
        )

    def finish(self, session: Session) -> Finished:
        """Return the cookie to send and the user-bound session this request ended.
        Raises SessionDataError (nothing sent) when the data is not JSON, and
        SessionTooLarge (413) over ``max_size`` or past a cookie's 4096 bytes."""
        old = session.origin if isinstance(session.origin, Payload) else None
        now = self.clock()
        step = self.lifecycle.step(session, now)
        if step is Step.NOTHING:
            return _UNCHANGED
        if step is Step.CREATE:
            return Finished(self._seal(session, None, now))
        if step is Step.FORGET or old is None:
            return Finished(self._delete_cookie)
        ended = old if old.record.user_id is not None else None
        record = old.record
        match step:
            case Step.UPDATE | Step.TOUCH:
                expires = self.lifecycle.extended(record, now)
                deadlines = Deadlines(record.created_at, now, expires, record.absolute_expires_at)
                same = deadlines.record(session.data_view(), session.user_id)
                return Finished(self._seal(session, Payload(same, old.sid, old.issued_at), now))
            case Step.REISSUE:
                return Finished(self._seal(session, Payload(record, old.sid, old.issued_at), now))
            case Step.REGENERATE:
                deadlines = self.lifecycle.carried(record, now)
                return Finished(
                    self._seal(session, self._next_id(session, deadlines), now), ended, now
                )
            case Step.RENEW:
                deadlines = self.lifecycle.new(now)
                return Finished(
                    self._seal(session, self._next_id(session, deadlines), now), ended, now
                )
            case Step.DELETE:
                return Finished(self._delete_cookie, ended, now)

    @staticmethod
    def _next_id(session: Session, deadlines: Deadlines) -> Payload:
        """A new id for the session that replaces one this request ends, issued just
        after it ended: revoking "everything issued until then" spares it."""
        issued = math.nextafter(deadlines.last_seen, math.inf)
        record = deadlines.record(session.data_view(), session.user_id)
        return Payload(record, secrets.token_urlsafe(16), issued)

    def _seal(self, session: Session, payload: Payload | None, now: float) -> SetCookie:
        """Seal ``payload`` (None: a new session with a new id) under the current key."""
        self.lifecycle.check_size(session.data_view())
        if payload is None:
            fresh = self.lifecycle.new(now).record(session.data_view(), session.user_id)
            payload = Payload(fresh, secrets.token_urlsafe(16), now)
        value = self.codec.seal(payload)
        name = self.config.cookie_name
        if len(name) + len(value) > MAX_COOKIE_BYTES:
            raise SessionTooLarge(
                f"the session cookie would be {len(name) + len(value)} bytes, over the "
                f"{MAX_COOKIE_BYTES} a browser keeps: store less in the session "
                "(about 2.9 KiB of JSON fits) or use a server-side store"
            )
        max_age = cookie_max_age(session.permanent, payload.record.expires_at, now)
        return self._delete_cookie.with_value(value, max_age)  # attributes checked once

    def delete_cookie(self) -> SetCookie:
        """A Set-Cookie that makes the browser drop the session cookie."""
        return self._delete_cookie

    def revocation(
        self, current: Record | None, sid: str | None, now: float
    ) -> tuple[Changes, Record]:
        """The write that revokes one session id (``sid``, ended at ``now``), or every
        session of the user issued until ``now`` (``sid`` None), given the user's
        ``current`` record: the patch for an existing record and the record to create
        if there is none. Past ``MAX_REVOKED_IDS`` live ids, a single revocation becomes
        "every session issued until ``now``"; the one the request issues instead is
        issued just after ``now`` (``_next_id``), so it survives."""
        data = current.data if current is not None else {}
        old_ids = [n for n in data if n[:2] == "s:"]
        expired = {n for n in old_ids if not _number_above(data[n], now)}
        changed: dict[str, Any]
        if sid is None or len(old_ids) - len(expired) >= MAX_REVOKED_IDS:
            changed = {"b": now}  # everything issued until now, ids too
            removed = frozenset(old_ids)
        else:
            changed = {"s:" + sid: now + self._absolute}
            removed = frozenset(expired)
        expires = now + self._absolute  # no cookie outlives its absolute timeout
        changes = Changes(last_seen=now, expires_at=expires, set=changed, remove=removed)
        return changes, Record(dict(changed), now, now, expires, now + _RECORD_HORIZON)

    @property
    def _absolute(self) -> float:
        return self.lifecycle.absolute

    def no_revocation_store(self) -> ConfigError:
        """The error of ``revoke_user`` without a revocation store."""
        return ConfigError(
            "revoke_user needs a revocation store: CookieBackend(config, "
            "revocations='sqlite:///revocations.db')"
        )


def _number_above(value: object, now: float) -> bool:
    return (type(value) is int or type(value) is float) and value > now
