"""Lifecycle events an application can subscribe to (audit logs, metrics, admin views).

=========================  ===========================================================
name                       when
=========================  ===========================================================
``session.created``        a new session record was stored
``session.regenerated``    a session got a new token (login, ``regenerate()``);
                           ``session`` is the new key's prefix, ``previous`` the old
``session.destroyed``      a session was deleted (``destroy()``, cleared)
``session.expired``        a cookie named a session past its deadline (on read)
``session.revoked``        one session was revoked (``revoke_device``)
``auth.login``             a password was proven (``login``, ``login_token``)
``auth.login_failed``      a wrong user name or password
``auth.logout``            ``logout`` revoked the session
``auth.logout_everywhere`` every session of a user was revoked (``count`` says how many)
``cookie.rejected``        a session cookie was forged or badly signed
                           (``reason="signature"``), named no session (``"unknown"``),
                           or a revoked one (``"revoked"``); an encrypted cookie that
                           does not open or has expired: ``"unopened"``
=========================  ===========================================================

An ``Event`` never holds a token: ``session`` is the first 12 hex digits of the store
key (the token's SHA-256), enough to find it with ``websession show``.

Subscribe with ``events.subscribe(callback)`` (a function, or an ``async def`` one) and
pass ``events`` to ``AsyncStoreBackend``/``StoreBackend`` and ``AsyncAuth``/``Auth``.
Async code (ASGI, ``AsyncAuth``) calls both kinds; sync code (Flask, ``Auth``) calls
the plain functions only. A subscriber that raises is logged and never fails the
request. With no subscriber an emitting site costs one truth test: no ``Event`` is
built.
"""

from __future__ import annotations

import enum
import inspect
import logging
from collections.abc import Awaitable, Callable, Collection, Iterable
from dataclasses import dataclass
from typing import cast

from websession.core.cookies import SetCookie, cookie_values
from websession.core.lifecycle import Lifecycle
from websession.core.outcomes import Create, Delete, Outcome, Replace
from websession.types import Record, SessionKey

__all__ = [
    "Event",
    "EventName",
    "Events",
    "Subscriber",
    "opened",
    "prefix",
    "rejected_cookie",
    "saved",
]

logger = logging.getLogger("websession.events")

_PREFIX = 12


class EventName(enum.StrEnum):
    """The events websession emits (see the module docstring)."""

    CREATED = "session.created"
    REGENERATED = "session.regenerated"
    DESTROYED = "session.destroyed"
    EXPIRED = "session.expired"
    REVOKED = "session.revoked"
    LOGIN = "auth.login"
    LOGIN_FAILED = "auth.login_failed"
    LOGOUT = "auth.logout"
    LOGOUT_EVERYWHERE = "auth.logout_everywhere"
    COOKIE_REJECTED = "cookie.rejected"


@dataclass(frozen=True, slots=True)
class Event:
    """One thing that happened to a session. Never holds a token."""

    name: EventName
    at: float
    """When (Unix seconds, the emitter's clock)."""
    session: str | None = None
    """The first 12 hex digits of the session's store key, if there is one."""
    user_id: str | None = None
    """The user concerned, if known."""
    previous: str | None = None
    """``session.regenerated``: the old key's prefix."""
    reason: str | None = None
    """``cookie.rejected``: ``signature``, ``unknown``, ``revoked`` or ``unopened``."""
    count: int | None = None
    """``auth.logout_everywhere``: sessions revoked."""
    ip: str | None = None
    """``auth.login`` / ``auth.login_failed``: the client address, if given."""


Subscriber = Callable[[Event], None] | Callable[[Event], Awaitable[None]]


def prefix(key: str | None) -> str | None:
    """What an event shows of a store key."""
    return key[:_PREFIX] if key is not None else None


class Events:
    """Subscribers to lifecycle events; false while there are none."""

    def __init__(self) -> None:
        self._plain: list[tuple[Callable[[Event], None], frozenset[str] | None]] = []
        self._async: list[tuple[Callable[[Event], Awaitable[None]], frozenset[str] | None]] = []

    def __bool__(self) -> bool:
        return bool(self._plain or self._async)

    def subscribe(
        self, callback: Subscriber, *, only: Collection[str] | None = None
    ) -> Callable[[], None]:
        """Call ``callback(event)`` for every event (or those named in ``only``);
        return a function that unsubscribes it."""
        names = frozenset(EventName(n) for n in only) if only is not None else None
        if inspect.iscoroutinefunction(callback):
            waiting = (cast(Callable[[Event], Awaitable[None]], callback), names)
            self._async.append(waiting)
            return lambda: self._async.remove(waiting)
        plain = (cast(Callable[[Event], None], callback), names)
        self._plain.append(plain)
        return lambda: self._plain.remove(plain)

    def emit(self, event: Event | None) -> None:
        """Deliver ``event`` to the plain subscribers (sync code)."""
        if event is None:
            return
        for callback, names in self._plain:
            if names is None or event.name in names:
                try:
                    callback(event)
                except Exception:
                    logger.exception("websession: an event subscriber failed on %s", event.name)

    async def emit_async(self, event: Event | None) -> None:
        """Deliver ``event`` to every subscriber, awaiting the async ones."""
        if event is None:
            return
        self.emit(event)
        for callback, names in self._async:
            if names is None or event.name in names:
                try:
                    await callback(event)
                except Exception:
                    logger.exception("websession: an event subscriber failed on %s", event.name)


# -- what the emitting sites build (only when there are subscribers) ---------------------


def rejected_cookie(
    cookie_headers: Iterable[str], cookie_name: str, now: float, reason: str = "signature"
) -> Event | None:
    """``cookie.rejected`` if a session cookie was sent but none verified."""
    if next(iter(cookie_values(cookie_headers, cookie_name)), None) is None:
        return None
    return Event(EventName.COOKIE_REJECTED, now, reason=reason)


def opened(key: SessionKey, record: Record | None, now: float) -> Event | None:
    """The event of a verified cookie's read, if it did not find a live session."""
    if record is None:
        return Event(EventName.COOKIE_REJECTED, now, prefix(key), reason="unknown")
    if Lifecycle.is_revoked(record):
        return Event(EventName.COOKIE_REJECTED, now, prefix(key), record.user_id, reason="revoked")
    if not Lifecycle.within_deadlines(record, now):
        return Event(EventName.EXPIRED, now, prefix(key), record.user_id)
    return None


def saved(outcome: Outcome, cookie: SetCookie | None, now: float) -> Event | None:
    """The event of a request's store write, if it created, regenerated or deleted."""
    match outcome:
        case Create():
            return Event(EventName.CREATED, now, prefix(outcome.key), outcome.record.user_id)
        case Replace() if cookie is not outcome.gone:
            record = outcome.record
            return Event(
                EventName.REGENERATED,
                now,
                prefix(outcome.key),
                record.user_id,
                previous=prefix(outcome.old_key),
            )
        case Delete():
            return Event(EventName.DESTROYED, now, prefix(outcome.key))
    return None
