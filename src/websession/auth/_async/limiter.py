"""Failed-login counting against the session store (rules: ``websession.auth.ratelimit``)."""

from __future__ import annotations

from websession.auth._compat import gather_async
from websession.auth.config import AuthConfig
from websession.auth.errors import TooManyAttempts
from websession.auth.ratelimit import Attempt, Limit, RateLimiter
from websession.stores.base import AsyncStore
from websession.types import SessionKey

__all__ = ["AsyncLoginLimiter"]


class AsyncLoginLimiter(RateLimiter):
    """Reserves, refunds and clears login attempts in ``store`` (the session store)."""

    def __init__(self, config: AuthConfig, store: AsyncStore) -> None:
        super().__init__(config)
        self.store = store

    async def reserve(self, limits: list[Limit], now: float) -> Attempt:
        """Count this attempt as a failure against each of ``limits`` *before* any
        password is verified, or raise TooManyAttempts (nothing counted) if one is used
        up, counting the attempts in flight. ``succeeded`` takes the count back."""
        await self._check(limits, now, pending=0)  # a locked subject costs no write
        attempt = Attempt([(self.key(limit, now), self.entry()) for limit in limits])
        await self._add(attempt.entries, now)
        try:
            await self._check(limits, now, pending=1)
        except TooManyAttempts:
            await self._refund(attempt.entries, now)
            raise
        return attempt

    async def succeeded(self, attempt: Attempt, now: float) -> None:
        """A successful login: forget its account's failures (not its address's: one
        valid account must not reset the budget for guessing others), and take back
        its own entry from the address."""
        account_key, _ = attempt.entries[0]
        await self.store.delete(account_key)
        await self._refund(attempt.entries[1:], now)

    async def _check(self, limits: list[Limit], now: float, *, pending: int) -> None:
        records = await gather_async(*(self.store.load(self.key(limit, now)) for limit in limits))
        for limit, record in zip(limits, records, strict=True):
            self.refuse(limit, record, now, pending=pending)

    async def _add(self, entries: list[tuple[SessionKey, str]], now: float) -> None:
        pending = entries
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

    async def _refund(self, entries: list[tuple[SessionKey, str]], now: float) -> None:
        await gather_async(
            *(self.store.update(key, self.refund(entry, now)) for key, entry in entries)
        )
