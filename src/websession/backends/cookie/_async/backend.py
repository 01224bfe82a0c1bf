"""The encrypted-cookie backend's driver: the engine's policy plus the revocation store."""

from __future__ import annotations

import time
from collections.abc import Sequence

from websession.backends.cookie.codec import Payload
from websession.backends.cookie.engine import CookieEngine, revocation_key
from websession.config import SessionConfig
from websession.core.cookies import SetCookie, cookie_values
from websession.core.session import Session
from websession.errors import StoreError
from websession.events import Events, rejected_cookie
from websession.rejections import REJECTED
from websession.stores import open_async_store
from websession.stores.base import AsyncStore
from websession.types import Clock

__all__ = ["CookieBackend"]


class CookieBackend:
    """Client-side sessions in an encrypted cookie, with per-user revocation.

    ``revocations`` is a store URL or store object for the revocation records; without
    it, user-bound cookie sessions cannot be revoked server-side before they expire
    (``revoke_user`` then raises ConfigError). Anonymous cookie sessions do no I/O; a
    user-bound one costs one read of its user's revocation record.
    """

    def __init__(
        self,
        config: SessionConfig,
        *,
        revocations: str | AsyncStore | None = None,
        clock: Clock = time.time,
        events: Events | None = None,
    ) -> None:
        self.events = events
        """Lifecycle event subscribers (``websession.events``): rejected cookies."""
        self.config = config
        self.engine = CookieEngine(config, clock=clock)
        """The sans-IO policy."""
        self.revocations = (
            open_async_store(revocations) if isinstance(revocations, str) else revocations
        )
        """The store of revocation records, if any."""

    def fresh(self, session_class: type[Session] = Session) -> Session:
        """The session of a request that sent no cookie: what ``open([])`` returns,
        without a coroutine. An integration that uses it may skip ``save`` for a
        session that stays new and empty (``Lifecycle.leaves_nothing``): the save
        would do nothing."""
        return self.engine.open(None, None, session_class)

    async def open(
        self, cookie_headers: Sequence[str], session_class: type[Session] = Session
    ) -> Session:
        """Open this request's cookie session (one read if it is bound to a user)."""
        engine = self.engine
        payload = engine.read(cookie_headers)
        if (
            payload is None
            and cookie_headers
            and cookie_values(cookie_headers, self.config.cookie_name)
        ):
            REJECTED.note("unopened")
        if payload is None and self.events and cookie_headers:
            name, now = self.config.cookie_name, engine.clock()
            event = rejected_cookie(cookie_headers, name, now, "unopened")
            await self.events.emit_async(event)
        key = engine.revocation_to_check(payload)
        revocation = None
        if key is not None and self.revocations is not None:
            revocation = await self.revocations.load(key)
            if payload is not None and engine.is_revoked(payload, revocation):
                REJECTED.note("revoked")
        return engine.open(payload, revocation, session_class)

    async def save(self, session: Session) -> SetCookie | None:
        """Revoke the user-bound session the request ended (logout, regenerate) and
        return the cookie to send. A regenerate of a session revoked meanwhile ends
        anonymous: the cookie is deleted."""
        cookie, ended, at = self.engine.finish(session)
        store = self.revocations
        if ended is None or store is None or await self._revoke(store, _user_of(ended), ended, at):
            return cookie
        return self.engine.delete_cookie()

    async def revoke_user(self, user_id: str) -> None:
        """Log ``user_id`` out everywhere: every cookie session issued until now dies."""
        if self.revocations is None:
            raise self.engine.no_revocation_store()
        await self._revoke(self.revocations, user_id, None, self.engine.clock())

    async def _revoke(
        self, store: AsyncStore, user_id: str, ended: Payload | None, now: float
    ) -> bool:
        """Record the revocation; False (nothing written) if ``ended`` was revoked
        already, by another request or an operator."""
        engine = self.engine
        key = revocation_key(user_id)
        current = await store.load(key)
        for _ in range(3):
            if ended is not None and engine.is_revoked(ended, current):
                return False
            changes, record = engine.revocation(current, None if ended is None else ended.sid, now)
            if current is not None and await store.update(key, changes):
                return True
            if await store.create(key, record):
                return True
            current = await store.load(key)
        raise StoreError("could not record a revocation: the record kept changing")

    async def close(self) -> None:
        """Close the revocation store, if any."""
        if self.revocations is not None:
            await self.revocations.close()


def _user_of(payload: Payload) -> str:
    user_id = payload.record.user_id
    assert user_id is not None  # noqa: S101 - finish names only user-bound payloads
    return user_id
