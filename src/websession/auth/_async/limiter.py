"""Failed-login counting against the session store (rules: ``websession.auth.ratelimit``)."""

from __future__ import annotations

from websession.auth._compat import gather_async
from websession.auth.config import AuthConfig
from websession.auth.ratelimit import Limit, RateLimiter
from websession.stores.base import AsyncStore

__all__ = ["AsyncLoginLimiter"]


class AsyncLoginLimiter(RateLimiter):
    """Checks, counts and clears failed logins in ``store`` (the session store)."""

    def __init__(self, config: AuthConfig, store: AsyncStore) -> None:
        super().__init__(config)
        self.store = store

    async def check(self, limits: list[Limit], now: float) -> None:
        """Raise TooManyAttempts if any of ``limits`` is used up in this window."""
        records = await gather_async(*(self.store.load(self.key(limit, now)) for limit in limits))
        for limit, record in zip(limits, records, strict=True):
            self.refuse(limit, record, now)

    async def record_failure(self, limits: list[Limit], now: float) -> None:
        """Count one failure against each of ``limits``."""
        pending = [(self.key(limit, now), self.entry()) for limit in limits]
        for _ in range(3):  # create; else patch; else (cleared meanwhile) create again
            created = await gather_async(
                *(self.store.create(key, self.first_failure(entry, now)) for key, entry in pending)
            )
            pending = [item for item, done in zip(pending, created, strict=True) if not done]
            if not pending:
                return
            updated = await gather_async(
                *(
                    self.store.update(key, self.another_failure(entry, now))
                    for key, entry in pending
                )
            )
            pending = [item for item, done in zip(pending, updated, strict=True) if not done]
            if not pending:
                return

    async def clear(self, limit: Limit, now: float) -> None:
        """Forget the failures of ``limit`` in this window (after a successful login)."""
        await self.store.delete(self.key(limit, now))
