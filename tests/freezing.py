"""Freezing a server the tests started (SIGSTOP to its processes, SIGCONT after), as an
operator sees a hung host: connections stay open, nothing answers."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Iterator
from pathlib import Path


def children(pid: int) -> list[int]:
    """The processes whose parent is ``pid``."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                found.append(int(stat.parent.name))
    return found


def postgres_pids(data: Path) -> list[int]:
    """The postmaster of the cluster in ``data`` and every process it started."""
    postmaster = int((data / "postmaster.pid").read_text().split()[0])
    return [postmaster, *children(postmaster)]


@contextlib.contextmanager
def frozen(pids: list[int], at_most: float = 30.0) -> Iterator[None]:
    """Stop ``pids`` (SIGSTOP) for the block, and at most ``at_most`` seconds (a timer
    thaws them, so code that hangs on the frozen server still ends); continue them
    afterwards, also on failure."""
    stopped: list[int] = []

    def thaw() -> None:
        for pid in stopped:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)

    timer = threading.Timer(at_most, thaw)
    try:
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGSTOP)
                stopped.append(pid)
        timer.start()
        yield
    finally:
        timer.cancel()
        thaw()
