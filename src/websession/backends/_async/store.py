"""Store-backed sessions: the engine decides, the store keeps (the default backend)."""

from __future__ import annotations

import time
from collections.abc import Sequence

from websession.config import SessionConfig
from websession.core.cookies import SetCookie, cookie_values
from websession.core.engine import SessionEngine
from websession.core.lifecycle import Lifecycle
from websession.core.outcomes import Create, Delete, Nothing, Outcome, Replace, Touch, Update
from websession.core.sealing import AtRest, has_sealed
from websession.core.session import Session
from websession.events import Events, opened, rejected_cookie, saved
from websession.rejections import REJECTED, reason_of
from websession.stores.base import AsyncStore
from websession.types import Clock

__all__ = ["AsyncStoreBackend", "save_async"]


class AsyncStoreBackend:
    """Sessions in ``store``, keyed by the hash of the signed cookie's token: no store
    I/O without a validly signed cookie, one read with one, one write when needed."""

    def __init__(
        self,
        store: AsyncStore,
        config: SessionConfig,
        *,
        clock: Clock = time.time,
        events: Events | None = None,
    ) -> None:
        self.events = events
        """Lifecycle event subscribers (``websession.events``), if any."""
        self.clock = clock
        self.store = store
        """Where the records live."""
        self.config = config
        self.engine = SessionEngine(config, clock)
        """The sans-IO policy."""
        self.at_rest = AtRest(config.verifying_secrets, seal=config.encrypt_at_rest)
        """Seals values written (``encrypt_at_rest``) and opens sealed values read."""

    def fresh(self, session_class: type[Session] = Session) -> Session:
        """The session of a request that sent no cookie: what ``open([])`` returns,
        without a coroutine. An integration that uses it may skip ``save`` for a
        session that stays new and empty (``Lifecycle.leaves_nothing``): the save
        would do nothing."""
        return self.engine.open(None, None, session_class)

    async def open(
        self, cookie_headers: Sequence[str], session_class: type[Session] = Session
    ) -> Session:
        """Verify the cookie (no I/O if it is absent or forged), then one store read."""
        engine = self.engine
        verified = engine.verify(cookie_headers) if cookie_headers else None
        if verified is None:
            if cookie_headers and cookie_values(cookie_headers, self.config.cookie_name):
                REJECTED.note("signature")
            if self.events and cookie_headers:
                event = rejected_cookie(cookie_headers, self.config.cookie_name, self.clock())
                await self.events.emit_async(event)
            return engine.open(None, None, session_class)
        record = await self.store.load(verified.key)
        now = self.clock()
        if not Lifecycle.is_live(record, now):  # one check on the common path
            reason = reason_of(record, now)
            if reason is not None:
                REJECTED.note(reason)
        if self.events:
            await self.events.emit_async(opened(verified.key, record, self.clock()))
        if record is not None and (self.at_rest.seals or has_sealed(record.data)):
            record = self.at_rest.opened(record, verified.token, verified.key)
        return engine.open(verified, record, session_class)

    async def save(self, session: Session) -> SetCookie | None:
        """The request's one write, if the engine asks for one; the cookie to send."""
        outcome = self.engine.finish(session)
        if type(outcome) is Nothing:  # no store call
            return outcome.cookie
        if self.at_rest.seals:
            outcome = self.at_rest.sealed(outcome, session.token)
        cookie = await save_async(self.store, outcome)
        if self.events:
            await self.events.emit_async(saved(outcome, cookie, self.clock()))
        return cookie

    async def close(self) -> None:
        """Close the store."""
        await self.store.close()


async def save_async(store: AsyncStore, outcome: Outcome) -> SetCookie | None:
    """Carry out ``outcome`` on ``store``; return the cookie to send, if any (the
    ``gone`` cookie when the record is no longer live: nothing is resurrected)."""
    match outcome:  # the most frequent first: a match tries its cases in order
        case Update():
            if not await store.update(outcome.key, outcome.changes):
                return outcome.gone
        case Nothing():
            pass
        case Create():
            await store.create(outcome.key, outcome.record)
        case Touch():
            if not await store.touch(outcome.key, outcome.last_seen, outcome.expires_at):
                return outcome.gone
        case Replace():
            if not await store.replace(outcome.old_key, outcome.key, outcome.record):
                return outcome.gone
        case Delete():
            await store.delete(outcome.key)
    return outcome.cookie
