"""The client-side deadline of the async PostgreSQL stores: an event-loop timer that
shuts the socket of a connection whose statement outlives it.

Why not ``asyncio.timeout`` around the statement: psycopg answers a cancelled statement
by sending a cancel request to the server and waiting for the statement to end (up to
5 + 5 seconds), which a frozen server never does. Shutting the socket (as
``deadline.Alarm`` does for the sync stores) ends the wait at once with "server closed
the connection unexpectedly", and the broken connection is discarded by the pool.
"""

from __future__ import annotations

import asyncio
from time import monotonic
from typing import Any

import psycopg

from websession.stores.postgres.deadline import shut

__all__ = ["AsyncAlarm"]


class AsyncAlarm:
    """Shuts ``conn``'s socket at ``deadline`` (``time.monotonic``) unless disarmed."""

    __slots__ = ("_fd", "_handle", "deadline", "fired")

    def __init__(self, conn: psycopg.AsyncConnection[Any], deadline: float) -> None:
        self.deadline = deadline
        self._fd = conn.pgconn.socket
        self.fired = False
        delay = deadline - monotonic()
        self._handle = asyncio.get_running_loop().call_later(delay, self._fire)

    def disarm(self) -> bool:
        """Stop the alarm; True if it had fired (the connection is then broken)."""
        self._handle.cancel()
        return self.fired

    def _fire(self) -> None:
        self.fired = True
        shut(self._fd)
