"""Failed-login limits per account and per client address, kept in the session store.

The state lives in the configured session store, through the ordinary ``Store`` /
``AsyncStore`` contract, so every worker (and every store kind: memory, file, SQLite,
Redis, PostgreSQL) sees the same counts. One record per subject and window::

    key      SHA-256 of "websession:ratelimit:<scope>:<window>:<subject>"
             scope: "account" (the case-folded username) or "address" (the client IP;
             an IPv6 address counts as its /64 network); window: floor(now / window)
    data     one entry per failure, {"f<random>": <time>, ...}
    deadline the end of the window (idle and absolute): the store drops it after that

A failure adds an entry of its own with a patch (``update``), never a read-modify-write
of a counter: the store contract keeps concurrent patches to different keys, so two
workers failing at once both count. Windows are fixed and aligned to the clock: at
most ``max_failures`` per window, so never more than twice that within any span of
one window. A locked subject is refused before any password is hashed; the refusal
carries ``retry_after``, the seconds left in the window.

A successful login clears its account's record (not its address's: one valid account
must not reset an attacker's budget for guessing others). A name that has no account
is limited the same way, so limits reveal nothing about which accounts exist; the
price is that anyone can lock an account for one window by failing on purpose, which
is why the window is short.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import math
import secrets
from dataclasses import dataclass

from websession.auth.config import AuthConfig
from websession.auth.errors import TooManyAttempts
from websession.auth.plan import Call, Plan
from websession.types import Changes, Record, SessionKey

__all__ = ["Limit", "RateLimiter", "address_subject"]

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
    """Plans that check, count and clear failed logins (run by the auth service)."""

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
        raw = f"websession:ratelimit:{limit.scope}:{index}:{limit.subject}"
        return SessionKey(hashlib.sha256(raw.encode()).hexdigest())

    def window_end(self, now: float) -> float:
        """When the window containing ``now`` ends."""
        return (math.floor(now / self.window) + 1) * self.window

    def check(self, limits: list[Limit], now: float) -> Plan[None]:
        """Raise TooManyAttempts if any of ``limits`` is used up in this window."""
        records: list[Record | None] = yield [
            Call("sessions", "load", (self.key(limit, now),)) for limit in limits
        ]
        for limit, record in zip(limits, records, strict=True):
            if record is None or now >= record.expires_at:
                continue
            if len(record.data) >= limit.max_failures:
                retry_after = math.ceil(record.expires_at - now)
                logger.warning(
                    "websession auth: refused a login, too many failures for this %s "
                    "(retry after %ss)",
                    limit.scope,
                    retry_after,
                )
                raise TooManyAttempts(retry_after, scope=limit.scope)

    def record_failure(self, limits: list[Limit], now: float) -> Plan[None]:
        """Count one failure against each of ``limits``."""
        end = self.window_end(now)
        pending = [(self.key(limit, now), "f" + secrets.token_hex(6)) for limit in limits]
        for _ in range(3):  # create; else patch; else (cleared meanwhile) create again
            created: list[bool] = yield [
                Call("sessions", "create", (key, _record({entry: now}, now, end)))
                for key, entry in pending
            ]
            pending = [item for item, done in zip(pending, created, strict=True) if not done]
            if not pending:
                return
            changes = [
                Changes(last_seen=now, expires_at=end, set={entry: now}) for _, entry in pending
            ]
            updated: list[bool] = yield [
                Call("sessions", "update", (key, change))
                for (key, _), change in zip(pending, changes, strict=True)
            ]
            pending = [item for item, done in zip(pending, updated, strict=True) if not done]
            if not pending:
                return

    def clear(self, limit: Limit, now: float) -> Plan[None]:
        """Forget the failures of ``limit`` in this window (after a successful login)."""
        yield Call("sessions", "delete", (self.key(limit, now),))

    def failures(self, limit: Limit, now: float) -> Plan[int]:
        """How many failures ``limit`` has in this window."""
        record: Record | None = yield Call("sessions", "load", (self.key(limit, now),))
        if record is None or now >= record.expires_at:
            return 0
        return len(record.data)


def _record(data: dict[str, float], now: float, end: float) -> Record:
    return Record(
        data=dict(data), created_at=now, last_seen=now, expires_at=end, absolute_expires_at=end
    )
