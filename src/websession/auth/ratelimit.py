"""Failed-login limits per account and per client address: the rules (no I/O).

The counts live in the configured session store, through the ordinary store contract
(``websession.auth._async.limiter`` does the I/O), so every worker (and every store
kind: memory, file, SQLite, Redis, PostgreSQL) sees the same counts. One record per
subject and window, a non-session record of the ``ratelimit`` namespace::

    key      record_key("ratelimit", "<scope>:<window>:<subject>")
             scope: "account" (the case-folded username) or "address" (the client IP;
             an IPv6 address counts as its /64 network); window: floor(now / window)
    data     one entry per failure, {"f<random>": <time>, ...}
    deadline the end of the window (idle and absolute): the store drops it after that

An attempt is counted *before* its password is verified: it adds an entry of its own
with a patch (``update``), never a read-modify-write of a counter (the store contract
keeps concurrent patches to different keys, so two workers counting at once both
count), then reads the record back and goes on only if the entries, its own and those
of attempts still in flight included, are within ``max_failures``; else it takes its
entry back and is refused. So a burst of parallel guesses verifies at most
``max_failures`` passwords per window, whatever the number of workers; the price is
that a burst beyond the limit may be refused as a whole although fewer have failed.
A failed attempt leaves its entry: that is the failure. A locked subject is refused
before any write and before any password is hashed; the refusal carries
``retry_after``, the seconds left in the window. Windows are fixed and aligned to the
clock: at most ``max_failures`` per window, so never more than twice that within any
span of one window.

A successful login clears its account's record and takes its own entry back from its
address's (the address keeps its failures: one valid account must not reset an
attacker's budget for guessing others). A name that has no account
is limited the same way, so limits reveal nothing about which accounts exist; the
price is that anyone can lock an account for one window by failing on purpose, which
is why the window is short.
"""

from __future__ import annotations

import ipaddress
import logging
import math
import secrets
from dataclasses import dataclass

from websession.auth.config import AuthConfig
from websession.auth.errors import TooManyAttempts
from websession.core.lifecycle import Lifecycle
from websession.stores.base import record_key
from websession.types import Changes, Record, SessionKey

__all__ = ["Attempt", "Limit", "RateLimiter", "address_subject"]

logger = logging.getLogger("websession.auth")


@dataclass(frozen=True, slots=True)
class Limit:
    """One counted subject: ``scope`` is ``account`` or ``address``."""

    scope: str
    subject: str
    max_failures: int


def address_subject(ip: str) -> str:
    """The subject an address is counted under: an IPv6 address's /64, else the IP."""
    try:
        address = ipaddress.ip_address(ip.strip())
    except ValueError:
        return ip.strip()
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


class RateLimiter:
    """The limits of one ``AuthConfig``: which records a login counts against, their
    keys and deadlines, and when a record refuses a login."""

    def __init__(self, config: AuthConfig) -> None:
        self.config = config
        self.window = config.failure_window.total_seconds()

    def limits(self, account: str, ip: str | None) -> list[Limit]:
        """The limits a login for ``account`` from ``ip`` counts against."""
        limits = [Limit("account", account, self.config.max_failures_per_account)]
        if ip:
            limits.append(
                Limit("address", address_subject(ip), self.config.max_failures_per_address)
            )
        return limits

    def key(self, limit: Limit, now: float) -> SessionKey:
        """The store key of ``limit``'s record for the window containing ``now``."""
        index = math.floor(now / self.window)
        return record_key("ratelimit", f"{limit.scope}:{index}:{limit.subject}")

    def window_end(self, now: float) -> float:
        """When the window containing ``now`` ends."""
        return (math.floor(now / self.window) + 1) * self.window

    def refuse(self, limit: Limit, record: Record | None, now: float, *, pending: int = 0) -> None:
        """Raise TooManyAttempts if ``record`` (``limit``'s) has used the limit up, not
        counting ``pending`` entries of the attempt that asks."""
        if record is None or not Lifecycle.within_deadlines(record, now):
            return
        if len(record.data) - pending >= limit.max_failures:
            retry_after = math.ceil(record.expires_at - now)
            logger.warning(
                "websession auth: refused a login, too many failures for this %s (retry after %ss)",
                limit.scope,
                retry_after,
            )
            raise TooManyAttempts(retry_after, scope=limit.scope)

    @staticmethod
    def entry() -> str:
        """A fresh entry name: one per failure, so concurrent failures never collide."""
        return "f" + secrets.token_hex(6)

    def first_failure(self, entry: str, now: float) -> Record:
        """A new window's record holding one failure."""
        end = self.window_end(now)
        return Record(
            data={entry: now},
            created_at=now,
            last_seen=now,
            expires_at=end,
            absolute_expires_at=end,
        )

    def another_failure(self, entry: str, now: float) -> Changes:
        """The patch that adds one failure to the window's record."""
        return Changes(last_seen=now, expires_at=self.window_end(now), set={entry: now})

    def refund(self, entry: str, now: float) -> Changes:
        """The patch that takes an attempt's entry back."""
        return Changes(last_seen=now, expires_at=self.window_end(now), remove=frozenset({entry}))


@dataclass(frozen=True, slots=True)
class Attempt:
    """A login attempt counted in advance: for each of its limits, the record's key
    and the attempt's own entry (the account's first)."""

    entries: list[tuple[SessionKey, str]]
