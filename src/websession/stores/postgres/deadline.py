"""The client-side deadline of the sync PostgreSQL stores: a watchdog thread that shuts
the socket of a connection whose statement outlives it.

Why a socket shutdown: a sync psycopg statement has no client-side timeout, and the
other means do not cover a server that stops answering. ``statement_timeout`` is
enforced by the server (a frozen one enforces nothing); ``cancel()``/``cancel_safe()``
send the cancel request to the same server, which does not answer either; libpq's
``tcp_user_timeout`` and keepalives only end links whose peer no longer acknowledges
TCP, while a frozen process's kernel acknowledges everything. Shutting the socket
(``shutdown(2)`` on a duplicate of libpq's descriptor) wakes the thread blocked in
psycopg at once with "server closed the connection unexpectedly"; the connection is
then broken and the pool discards it. A frozen server and a half-open link are both
bounded by the store's timeout this way.

One daemon thread per process serves every sync store: arming costs a lock and a heap
push, and the thread wakes about once per deadline period, not per statement. An
alarm shuts its socket only while its statement runs (under the lock), so a
descriptor is never touched after the connection went back to the pool.

``async_deadline.AsyncAlarm`` is the async face (an event-loop timer).
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import os
import socket
import threading
from time import monotonic
from typing import Any

import psycopg

__all__ = ["Alarm", "shut"]


def shut(fd: int) -> None:
    """Shut down the socket behind ``fd`` (both ways) without closing ``fd`` itself."""
    with contextlib.suppress(OSError), socket.socket(fileno=os.dup(fd)) as sock:
        sock.shutdown(socket.SHUT_RDWR)


class Alarm:
    """Shuts ``conn``'s socket at ``deadline`` (``time.monotonic``) unless disarmed."""

    __slots__ = ("_done", "_fd", "deadline", "fired")

    def __init__(self, conn: psycopg.Connection[Any], deadline: float) -> None:
        self.deadline = deadline
        self._fd = conn.pgconn.socket
        self._done = False
        self.fired = False
        _watchdog().arm(self, deadline)

    def disarm(self) -> bool:
        """Stop the alarm; True if it had fired (the connection is then broken)."""
        with _WATCHDOG_LOCK:
            self._done = True
            return self.fired

    def _fire(self) -> None:  # under _WATCHDOG_LOCK
        if not self._done:
            self._done = self.fired = True
            shut(self._fd)


_WATCHDOG_LOCK = threading.Lock()


class _Watchdog:
    """The thread that fires expired alarms."""

    def __init__(self) -> None:
        self._wake = threading.Condition(_WATCHDOG_LOCK)
        self._alarms: list[tuple[float, int, Alarm]] = []
        self._order = itertools.count()
        threading.Thread(target=self._run, name="websession-pg-deadline", daemon=True).start()

    def arm(self, alarm: Alarm, deadline: float) -> None:
        with self._wake:
            alarms = self._alarms
            first = not alarms or deadline < alarms[0][0]
            heapq.heappush(alarms, (deadline, next(self._order), alarm))
            if first:
                self._wake.notify()

    def _run(self) -> None:
        alarms = self._alarms
        with self._wake:
            while True:
                while alarms and alarms[0][2]._done:  # disarmed: forget without waiting
                    heapq.heappop(alarms)
                if not alarms:
                    self._wake.wait()
                    continue
                wait = alarms[0][0] - monotonic()
                if wait > 0:
                    self._wake.wait(wait)
                    continue
                heapq.heappop(alarms)[2]._fire()


_current: _Watchdog | None = None


def _watchdog() -> _Watchdog:
    global _current
    if _current is None:
        with _START_LOCK:
            if _current is None:
                _current = _Watchdog()
    return _current


_START_LOCK = threading.Lock()


def _after_fork() -> None:  # the thread does not survive a fork: start anew on first use
    global _current, _WATCHDOG_LOCK, _START_LOCK
    _current = None
    _WATCHDOG_LOCK = threading.Lock()
    _START_LOCK = threading.Lock()


os.register_at_fork(after_in_child=_after_fork)
