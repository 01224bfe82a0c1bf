"""Progress of a long command: a bar on a terminal, plain lines otherwise.

On a terminal the line is redrawn in place (count, share, rate, ETA when the total is
known); elsewhere (a log, a pipe, cron) a plain line is written every few seconds and
once at the end, so logs stay readable.
"""

from __future__ import annotations

import math
import time
from typing import TextIO

__all__ = ["Progress"]

_WIDTH = 24


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}"


class Progress:
    """Reports ``done`` out of ``total`` (None if unknown) ``what`` to ``stream``."""

    def __init__(
        self,
        what: str,
        stream: TextIO,
        *,
        total: int | None = None,
        start: int = 0,
        every: float = 2.0,
        tty: bool | None = None,
    ) -> None:
        self.what = what
        self.total = total
        self.stream = stream
        self.tty = stream.isatty() if tty is None else tty
        self.every = every if not self.tty else 0.1
        self._start_count = start
        self._started = time.monotonic()
        self._shown = -math.inf  # the first update shows
        self.done = start

    def rate(self) -> float:
        """Items per second in this run."""
        elapsed = time.monotonic() - self._started
        return (self.done - self._start_count) / elapsed if elapsed > 0 else 0.0

    def line(self) -> str:
        """The current progress line (without bar on a non-terminal)."""
        rate = self.rate()
        parts = [f"{self.done:,}"]
        if self.total:
            share = min(self.done / self.total, 1.0)
            parts[0] += f"/{self.total:,} {self.what} ({share:.0%})"
            if self.tty:
                filled = int(share * _WIDTH)
                parts.insert(0, "[" + "#" * filled + "." * (_WIDTH - filled) + "]")
        else:
            parts[0] += f" {self.what}"
        parts.append(f"{rate:,.0f}/s")
        if self.total and rate > 0 and self.done < self.total:
            parts.append(f"ETA {_duration((self.total - self.done) / rate)}")
        return " ".join(parts)

    def update(self, done: int) -> None:
        """Record progress; redraw if it is time."""
        self.done = done
        now = time.monotonic()
        if now - self._shown >= self.every:
            self._shown = now
            self._show()

    def _show(self) -> None:
        if self.tty:
            self.stream.write("\r\033[K" + self.line())
        else:
            self.stream.write(self.line() + "\n")
        self.stream.flush()

    def finish(self) -> None:
        """Show the final state and end the line."""
        self._show()
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()
