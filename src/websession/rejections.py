"""Counts of rejected session cookies, logged at debug level and rate-limited, so an
operator can see an attack (forged cookies, replayed or revoked ones) in the logs.

A cookie is counted by reason: ``signature`` (forged, badly signed, a secret no longer
known), ``unopened`` (an encrypted cookie that does not open: unknown key id, tampered
or expired), ``unknown`` (names no session), ``revoked`` and ``expired``. The value is
never logged. At most one line per ``interval`` seconds goes to the
``websession.cookies`` logger, with the counts since the last line; ``REJECTED.counts``
holds the totals since start.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable

from websession.core.lifecycle import Lifecycle
from websession.types import Record

__all__ = ["REJECTED", "RejectedCookies", "reason_of"]

logger = logging.getLogger("websession.cookies")


class RejectedCookies:
    """Thread-safe counters of rejected cookies by reason, with a rate-limited log."""

    def __init__(self, interval: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval = interval
        self.clock = clock
        self.counts: Counter[str] = Counter()
        """Rejections by reason since start."""
        self._pending: Counter[str] = Counter()
        self._last: float | None = None
        self._lock = threading.Lock()

    def note(self, reason: str) -> None:
        """Count one rejected cookie; log the counts if the interval has passed."""
        with self._lock:
            self.counts[reason] += 1
            self._pending[reason] += 1
            now = self.clock()
            if self._last is not None and now - self._last < self.interval:
                return
            self._last = now
            pending, self._pending = self._pending, Counter()
        if logger.isEnabledFor(logging.DEBUG):
            summary = ", ".join(f"{name}={count}" for name, count in sorted(pending.items()))
            logger.debug("rejected session cookies: %s", summary)


def reason_of(record: Record | None, now: float) -> str | None:
    """Why a verified cookie's record is not served (``unknown``, ``revoked``,
    ``expired``), or None if it is live."""
    if record is None:
        return "unknown"
    if Lifecycle.is_revoked(record):
        return "revoked"
    if not Lifecycle.within_deadlines(record, now):
        return "expired"
    return None


REJECTED = RejectedCookies()
"""The process's counters (every backend notes its rejections here)."""
