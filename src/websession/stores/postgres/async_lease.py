"""How the async PostgreSQL stores borrow connections: held for reuse, bounded.

A pool checkout costs about as much client time as the statement itself, so a
connection taken from the pool is kept for up to ``HOLD_SECONDS`` and handed straight
to the next operation; a timer hands it back when no operation comes (an idle app),
so the pool can check and recycle it. A semaphore keeps the held connections plus
those in use within the pool's size, so the pool always has one for an operation that
finds none held, and bounds the wait for a free one by the store's timeout. A
connection whose operation failed or was cancelled goes straight back to the pool,
which closes it if it is broken or left mid-statement, and replaces it.

The sync stores borrow through ``lease.Lease`` (getconn/putconn, nothing held): the
generated sync code calls the same methods.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from time import monotonic
from typing import Any, TypeVar

import psycopg
from psycopg.pq import TransactionStatus
from psycopg_pool import AsyncConnectionPool, PoolTimeout

__all__ = ["HOLD_SECONDS", "AsyncLease", "AsyncLock", "AsyncWork"]

AsyncLock = asyncio.Lock
"""The lock the async stores use (``threading.Lock`` on the sync side)."""

HOLD_SECONDS = 1.0
"""How long a connection taken from the pool is reused before it is handed back."""

T = TypeVar("T")

IDLE = TransactionStatus.IDLE

Connection = psycopg.AsyncConnection[Any]

AsyncWork = Callable[[Connection], Awaitable[T]]
"""An operation on a borrowed connection (``Work`` on the sync side)."""


class AsyncLease:
    """Lends the connections of one async pool, at most ``size`` at a time."""

    def __init__(self, pool: AsyncConnectionPool[Any], size: int) -> None:
        self._pool = pool
        self._slots = asyncio.Semaphore(size)
        self._held: list[Connection] = []
        self._taken_at: dict[Connection, float] = {}
        self._release_timer: asyncio.TimerHandle | None = None
        self._releasing: set[asyncio.Task[None]] = set()

    async def take(self, timeout: float) -> Connection:
        """A held connection, or one from the pool; PoolTimeout if none frees within
        ``timeout`` seconds. Every ``take`` is followed by ``give_back`` or ``failed``."""
        deadline = monotonic() + timeout
        slots = self._slots
        if slots.locked():  # every connection is busy: wait, within the timeout
            try:
                async with asyncio.timeout(timeout):
                    await slots.acquire()
            except TimeoutError:
                raise PoolTimeout("timed out waiting for a connection slot") from None
        else:
            await slots.acquire()  # returns at once
        try:
            if self._held:
                return self._held.pop()
            conn: Connection = await self._pool.getconn(max(deadline - monotonic(), 0.001))
        except BaseException:
            slots.release()
            raise
        self._taken_at[conn] = monotonic()
        return conn

    async def give_back(self, conn: Connection) -> None:
        """Return a connection after a successful operation: held for reuse until
        ``HOLD_SECONDS`` after it left the pool."""
        try:
            if monotonic() - self._taken_at[conn] < HOLD_SECONDS:
                self._held.append(conn)
                self._schedule_release()
            else:
                await self._put(conn)
        finally:
            self._slots.release()

    async def failed(self, conn: Connection) -> None:
        """Return a connection whose operation failed or was cancelled: to the pool,
        closed first if it was left mid-statement (the pool then replaces it)."""
        try:
            if conn.info.transaction_status != IDLE:
                await conn.close()
            await self._put(conn)
        finally:
            self._slots.release()

    async def reset(self) -> None:
        """After a dead connection: hand back the held ones and have the pool check its
        idle connections (dropping the other dead ones)."""
        await self._release_held()
        await self._pool.check()

    async def close(self) -> None:
        """Hand every held connection back (before the pool closes)."""
        if self._release_timer is not None:
            self._release_timer.cancel()
            self._release_timer = None
        if self._releasing:
            await asyncio.gather(*self._releasing, return_exceptions=True)
        await self._release_held()

    async def _put(self, conn: Connection) -> None:
        self._taken_at.pop(conn, None)
        await self._pool.putconn(conn)

    def _schedule_release(self) -> None:
        if self._release_timer is None:
            loop = asyncio.get_running_loop()
            self._release_timer = loop.call_later(HOLD_SECONDS, self._on_release_timer)

    def _on_release_timer(self) -> None:
        self._release_timer = None
        task = asyncio.ensure_future(self._release_expired())
        self._releasing.add(task)
        task.add_done_callback(self._releasing.discard)

    async def _release_expired(self) -> None:
        """Hand back the connections held for ``HOLD_SECONDS`` or more."""
        now = monotonic()
        expired = [c for c in self._held if now - self._taken_at[c] >= HOLD_SECONDS]
        self._held = [c for c in self._held if now - self._taken_at[c] < HOLD_SECONDS]
        for conn in expired:
            await self._put(conn)
        if self._held:
            self._schedule_release()

    async def _release_held(self) -> None:
        held, self._held = self._held, []
        for conn in held:
            await self._put(conn)
