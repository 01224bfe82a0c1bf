# Generated from ../_async/limiter.py by scripts/generate_sync.py: do not edit.
"""Failed-login counting against the session store (rules: ``websession.auth.ratelimit``)."""

from __future__ import annotations

from websession.auth._compat import gather
from websession.auth.config import AuthConfig
from websession.auth.errors import TooManyAttempts
from websession.auth.ratelimit import Attempt, Limit, RateLimiter
from websession.stores.base import Store
from websession.types import SessionKey

__all__ = ["LoginLimiter"]


class LoginLimiter(RateLimiter):
    """Reserves, refunds and clears login attempts in ``store`` (the session store)."""

    def __init__(self, config: AuthConfig, store: Store) -> None:
        super().__init__(config)
        self.store = store

    def reserve(self, limits: list[Limit], now: float) -> Attempt:
        """Count this attempt as a failure against each of ``limits`` *before* any
        password is verified, or raise TooManyAttempts (nothing counted) if one is used
        up, counting the attempts in flight. ``succeeded`` takes the count back."""
        self._check(limits, now, pending=0)  # a locked subject costs no write
        attempt = Attempt([(self.key(limit, now), self.entry()) for limit in limits])
        self._add(attempt.entries, now)
        try:
            self._check(limits, now, pending=1)
        except TooManyAttempts:
            self._refund(attempt.entries, now)
            raise
        return attempt

    def succeeded(self, attempt: Attempt, now: float) -> None:
        """A successful login: forget its account's failures (not its address's: one
        valid account must not reset the budget for guessing others), and take back
        its own entry from the address."""
        account_key, _ = attempt.entries[0]
        self.store.delete(account_key)
        self._refund(attempt.entries[1:], now)

    def _check(self, limits: list[Limit], now: float, *, pending: int) -> None:
        records = gather(*(self.store.load(self.key(limit, now)) for limit in limits))
        for limit, record in zip(limits, records, strict=True):
            self.refuse(limit, record, now, pending=pending)

    def _add(self, entries: list[tuple[SessionKey, str]], now: float) -> None:
        pending = entries
        for _ in range(3):  # create; else patch; else (cleared meanwhile) create again
            created = gather(
                *(self.store.create(key, self.first_failure(entry, now)) for key, entry in pending)
            )
            pending = [item for item, done in zip(pending, created, strict=True) if not done]
            if not pending:
                return
            updated = gather(
                *(
                    self.store.update(key, self.another_failure(entry, now))
                    for key, entry in pending
                )
            )
            pending = [item for item, done in zip(pending, updated, strict=True) if not done]
            if not pending:
                return

    def _refund(self, entries: list[tuple[SessionKey, str]], now: float) -> None:
        gather(*(self.store.update(key, self.refund(entry, now)) for key, entry in entries))
