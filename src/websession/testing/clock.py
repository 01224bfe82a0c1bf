"""A clock that tests move by hand."""

from __future__ import annotations

import time
from datetime import timedelta

__all__ = ["FakeClock"]


class FakeClock:
    """Callable clock in Unix seconds that only moves when told to.

    Starts at the real time, so stores with server-side TTLs (Redis) see sane deadlines.
    """

    def __init__(self, start: float | None = None) -> None:
        self.now = time.time() if start is None else start

    def __call__(self) -> float:
        return self.now

    def advance(self, by: float | timedelta) -> None:
        """Move the clock forward by seconds or a timedelta."""
        self.now += by.total_seconds() if isinstance(by, timedelta) else by
