"""The one session lifecycle: deadlines, refresh, liveness, revocation and size.

Every rule about *when* a session lives is written here once, and used by the server
engine, the encrypted-cookie engine, the auth layer and the rate limiter::

    created  ──► live ──(idle deadline passes, or absolute deadline)──► expired
                  │ ▲
                  │ └── refresh: only once ``refresh_threshold`` of the idle window
                  │     has passed, and only if it moves the deadline (the absolute
                  │     deadline caps it; once capped, no refresh is ever due)
                  └──(logout / revoke: REVOKED_KEY in the data)──► revoked

A record is *live* at ``now`` when ``now`` is before both deadlines and it carries no
revocation marker. Nothing that is not live is ever served, whatever a store holds.

``Lifecycle.step`` names what a finished request needs (create, update, touch,
regenerate, delete …) for any backend; the server engine maps a step onto a store
operation, the encrypted-cookie engine onto sealing a cookie, so both decide alike.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from websession.config import SessionConfig
from websession.core.jsondata import REVOKED_KEY, check_value, dumps
from websession.errors import SessionDataError, SessionTooLarge
from websession.types import JSONValue, Record

if TYPE_CHECKING:
    from websession.core.session import Session

__all__ = ["REVOKED_KEY", "Deadlines", "Lifecycle", "Step"]


@dataclass(frozen=True, slots=True)
class Deadlines:
    """The times of a new or refreshed record, in Unix seconds."""

    created_at: float
    last_seen: float
    expires_at: float
    absolute_expires_at: float

    def record(self, data: dict[str, JSONValue], user_id: str | None) -> Record:
        """A record with these deadlines."""
        return Record(
            data,
            self.created_at,
            self.last_seen,
            self.expires_at,
            self.absolute_expires_at,
            user_id,
        )


class Step(enum.Enum):
    """What a finished request needs, whichever backend keeps the session: every
    engine maps these onto its own operations, so both decide alike."""

    NOTHING = "nothing"
    """Untouched, or new and empty (anonymous visitors cost nothing)."""
    CREATE = "create"
    """A new session with data or a user."""
    UPDATE = "update"
    """A stored session whose data or user changed: new idle deadline."""
    TOUCH = "touch"
    """A stored, untouched session whose refresh is due: new idle deadline only."""
    REISSUE = "reissue"
    """A stored, untouched session whose cookie an older secret signed: same deadlines,
    the cookie re-issued under the current secret."""
    REGENERATE = "regenerate"
    """A new token for a stored session; data, creation and absolute deadline kept."""
    RENEW = "renew"
    """A stored session destroyed, with data set afterwards: a new session replaces it."""
    DELETE = "delete"
    """A stored session destroyed."""
    FORGET = "forget"
    """Destroyed before it was ever stored: only the cookie is dropped."""


class Lifecycle:
    """The lifecycle rules of one configuration. No I/O, no clock: ``now`` is passed in."""

    __slots__ = ("absolute", "idle", "max_size", "refresh_after", "refresh_each")

    def __init__(self, config: SessionConfig) -> None:
        self.idle = config.idle_timeout.total_seconds()
        """Idle timeout in seconds."""
        self.absolute = config.absolute_timeout.total_seconds()
        """Absolute timeout in seconds."""
        self.refresh_after = self.idle * config.refresh_threshold
        """Seconds of the idle window that pass before a refresh is due."""
        self.max_size = config.max_size
        """Largest JSON size of a session's data, in bytes."""
        self.refresh_each = config.refresh_each_request
        """Whether every request of a permanent session refreshes it."""

    # -- deadlines -----------------------------------------------------------------------

    def new(self, now: float) -> Deadlines:
        """The deadlines of a session created at ``now``."""
        absolute = now + self.absolute
        return Deadlines(now, now, min(now + self.idle, absolute), absolute)

    def carried(self, base: Record, now: float) -> Deadlines:
        """The deadlines of a record that replaces ``base`` at ``now`` (regenerate):
        creation time and absolute deadline are kept, so a regenerate never extends
        the session's life."""
        absolute = base.absolute_expires_at
        return Deadlines(base.created_at, now, min(now + self.idle, absolute), absolute)

    def extended(self, record: Record, now: float) -> float:
        """The idle deadline after activity at ``now`` (capped by the absolute one)."""
        return min(now + self.idle, record.absolute_expires_at)

    def refresh_due(self, record: Record, now: float) -> float | None:
        """The new idle deadline if an untouched session should be refreshed now, else
        None: due once ``refresh_threshold`` of the idle window has passed since the
        last refresh, and only when it moves the deadline (never past the absolute)."""
        expires = min(now + self.idle, record.absolute_expires_at)
        if now - (record.expires_at - self.idle) >= self.refresh_after and (
            expires > record.expires_at
        ):
            return expires
        return None

    @staticmethod
    def leaves_nothing(session: Session) -> bool:
        """True if ``session`` needs no store operation and no cookie at any time: never
        stored, not destroyed, empty (``step`` is NOTHING); without marking it accessed."""
        return session.record is None and not session.destroyed and not session.has_content()

    def step(self, session: Session, now: float) -> Step:
        """The step a request that ends at ``now`` needs for ``session`` (refresh only
        when ``refresh_due`` says so, or on every request of a permanent session with
        ``refresh_each_request``). A stored session emptied in this request (no data
        beyond its ``permanent`` choice, no user) is deleted, as ``destroy()`` would."""
        if self.leaves_nothing(session):
            return Step.NOTHING
        record = session.record
        if session.destroyed:
            if session.has_content():
                return Step.CREATE if record is None else Step.RENEW
            return Step.FORGET if record is None else Step.DELETE
        if record is None:
            return Step.CREATE  # new, not destroyed, not empty (else leaves_nothing)
        if session.modified:
            if not session.has_content():
                return Step.DELETE  # emptied: ends as destroy() would
            # binding a user rotates the token by itself (fixation defence)
            rotate = session.regenerating or session.binds_new_user
            return Step.REGENERATE if rotate else Step.UPDATE
        if session.regenerating:
            return Step.REGENERATE
        if self.refresh_due(record, now) is not None or (
            self.refresh_each
            and session.permanent
            and min(now + self.idle, record.absolute_expires_at) > record.expires_at
        ):
            return Step.TOUCH
        if session.stale_signature:
            return Step.REISSUE
        return Step.NOTHING

    # -- liveness ------------------------------------------------------------------------

    @staticmethod
    def within_deadlines(record: Record, now: float) -> bool:
        """True if ``now`` is before both of the record's deadlines."""
        return now < record.expires_at and now < record.absolute_expires_at

    @staticmethod
    def is_revoked(record: Record) -> bool:
        """True if the record carries the revocation marker."""
        return REVOKED_KEY in record.data

    @staticmethod
    def is_live(record: Record | None, now: float) -> bool:
        """True if ``record`` may be served at ``now``: present, within both deadlines,
        not revoked."""
        return (
            record is not None
            and now < record.expires_at
            and now < record.absolute_expires_at
            and REVOKED_KEY not in record.data
        )

    # -- size ------------------------------------------------------------------------------

    def check_size(self, data: Mapping[str, Any]) -> int:
        """Return the JSON size of ``data``; raise SessionDataError if a value is not
        JSON, SessionTooLarge (413) if it is over ``max_size``. Nothing is written then."""
        try:
            size = len(dumps(data))
        except TypeError:  # a value was mutated into something that is not JSON
            for name, value in data.items():
                check_value(name, value)
            raise SessionDataError("session data is not JSON") from None
        if size > self.max_size:
            largest = max(data, key=lambda name: len(dumps(data[name])))
            raise SessionTooLarge(
                f"session data is {size} bytes, over max_size={self.max_size}; "
                f"the largest value is under key {largest!r}",
                key=largest,
            )
        return size
