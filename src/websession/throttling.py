"""Log lines that would repeat once per request during an outage, at most once per
interval per kind, each saying how many were left out since the previous one.

Used by the integrations (a failed load or save: one line per kind of failure, not per
request) and by the PostgreSQL store's health tracking ("unreachable", "busy").
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Hashable
from time import monotonic

__all__ = ["ThrottledLog"]


class ThrottledLog:
    """At most one line per ``interval`` seconds per kind on ``logger`` (thread-safe)."""

    def __init__(
        self,
        logger: logging.Logger,
        interval: float,
        clock: Callable[[], float] = monotonic,
        max_kinds: int = 1024,
    ) -> None:
        self.logger = logger
        self.interval = interval
        self.clock = clock
        self.max_kinds = max_kinds
        """Kinds remembered at most (a message with varying text is a kind per text)."""
        self._lock = threading.Lock()
        self._last: dict[Hashable, float] = {}
        self._skipped: dict[Hashable, int] = {}

    def count(self, kind: Hashable) -> None:
        """One more event of ``kind`` not worth a line of its own (the next line of that
        kind says how many)."""
        with self._lock:
            self._skipped[kind] = self._skipped.get(kind, 0) + 1

    def once(self, kind: Hashable, level: int, message: str, *args: object) -> bool:
        """Log ``message`` at ``level`` unless a line of ``kind`` went out within the
        interval (then count it); True if it was logged."""
        now = self.clock()
        with self._lock:
            last = self._last.get(kind)
            if last is not None and now - last < self.interval:
                self._skipped[kind] = self._skipped.get(kind, 0) + 1
                return False
            if last is None and len(self._last) >= self.max_kinds:
                self._forget_before(now - self.interval)
            self._last[kind] = now
            skipped = self._skipped.pop(kind, 0)
        if skipped:
            message += " (%d more since the last line)"
            args = (*args, skipped)
        self.logger.log(level, message, *args)
        return True

    def _forget_before(self, moment: float) -> None:
        """Drop the kinds last logged before ``moment`` (all of them if none is)."""
        old = [kind for kind, last in self._last.items() if last < moment]
        for kind in old or list(self._last):
            del self._last[kind]
            self._skipped.pop(kind, None)

    def reset(self) -> None:
        """Forget every line sent and counted (the next of each kind goes out)."""
        with self._lock:
            self._last.clear()
            self._skipped.clear()
