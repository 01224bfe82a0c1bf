"""The async driver's own connections to one Redis server: an asyncio protocol whose
replies hiredis parses, and the pool that hands them out.

A connection carries one exchange at a time (a pipelined batch and its replies). Each
exchange has a deadline; instead of a timer per exchange (``asyncio.timeout`` makes and
cancels one each time), a connection keeps at most one timer, which, when it fires,
fails the exchange in flight if that one is past its deadline, else moves itself to that
deadline. Under steady traffic a connection thus sets one timer per ``timeout`` seconds,
and a frozen server still fails the exchange at its deadline. A connection that failed,
timed out or was abandoned mid-exchange is closed, never reused, so no reply is ever
left unread on a connection that is handed out again.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import InvalidResponse

from websession.stores.redis.options import RedisOptions
from websession.stores.redis.wire import hello, new_reader, pack, welcomed

__all__ = ["AsyncConnection", "AsyncPool"]


class _Exchange:
    """One batch in flight: its future, how many replies it waits for, its deadline."""

    __slots__ = ("deadline", "expected", "future", "replies")

    def __init__(self, future: asyncio.Future[list[Any]], expected: int, deadline: float) -> None:
        self.future = future
        self.expected = expected
        self.deadline = deadline
        self.replies: list[Any] = []


class AsyncConnection(asyncio.Protocol):
    """One connection: ``exchange`` sends a batch and waits for its replies. Batches
    may overlap (auto-pipelining): replies come back in order, so each batch takes the
    next replies; a batch sent while others are in flight waits for the end of the
    event-loop turn, and every batch sent in that turn goes out in one write."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._reader = new_reader()
        self._transport: asyncio.Transport | None = None
        self._in_flight: deque[_Exchange] = deque()
        self._unsent: list[bytes] = []
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = 0.0
        self.closed = False

    @property
    def busy(self) -> bool:
        """True while a batch waits for replies."""
        return bool(self._in_flight)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)  # noqa: S101 - a stream transport
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        reader, in_flight = self._reader, self._in_flight
        reader.feed(data)
        while (reply := reader.gets()) is not False:
            if not in_flight:
                self._fail(InvalidResponse("a Redis reply that no command asked for"))
                return
            head = in_flight[0]
            head.replies.append(reply)
            if len(head.replies) == head.expected:
                in_flight.popleft()
                if not head.future.done():  # its caller may have been cancelled
                    head.future.set_result(head.replies)

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail(RedisConnectionError("the Redis server closed the connection"))

    def _fail(self, exc: BaseException) -> None:
        self.close()
        in_flight, self._in_flight = self._in_flight, deque()
        for each in in_flight:
            if not each.future.done():
                each.future.set_exception(exc)

    def exchange(self, payload: bytes, replies: int, deadline: float) -> Awaitable[list[Any]]:
        """Send ``payload`` and wait for ``replies`` replies until ``deadline`` (loop
        time; TimeoutError after it)."""
        transport = self._transport
        assert transport is not None  # noqa: S101 - connected before use
        future = self._loop.create_future()
        first = not self._in_flight
        self._in_flight.append(_Exchange(future, replies, deadline))
        if self._timer is None or self._timer_at > deadline:
            if self._timer is not None:
                self._timer.cancel()
            self._timer_at = deadline
            self._timer = self._loop.call_at(deadline, self._check)
        if first:
            transport.write(payload)
        else:
            if not self._unsent:
                self._loop.call_soon(self._flush)
            self._unsent.append(payload)
        return future

    def _flush(self) -> None:
        unsent, self._unsent = self._unsent, []
        if unsent and not self.closed and self._transport is not None:
            self._transport.write(b"".join(unsent))

    def _check(self) -> None:
        self._timer = None
        if not self._in_flight:
            return
        earliest = min(each.deadline for each in self._in_flight)
        if earliest <= self._timer_at:  # replies come in order: all are stuck
            self._fail(TimeoutError())
        else:
            self._timer_at = earliest
            self._timer = self._loop.call_at(earliest, self._check)

    def usable(self, loop: asyncio.AbstractEventLoop) -> bool:
        """True if open and of ``loop``; one of another (closed) loop is dropped."""
        if self._loop is loop:
            return not self.closed
        with contextlib.suppress(RuntimeError):  # its loop may be closed
            self.close()
        self.closed = True
        return False

    def close(self) -> None:
        """Close at once (an unread reply is dropped with the connection)."""
        self.closed = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._transport is not None:
            self._transport.abort()


class AsyncPool:
    """At most ``max_connections`` connections to one server; ``address`` names it
    (None: the server of the options; Sentinel gives the primary's)."""

    def __init__(
        self,
        options: RedisOptions,
        address: Callable[[], Awaitable[tuple[str, int] | None]],
    ) -> None:
        self._options = options
        self._address = address
        self._hello = hello(options)
        self._idle: list[AsyncConnection] = []
        self._open = 0
        self._waiting: deque[asyncio.Future[None]] = deque()
        self._ssl = ssl.create_default_context() if options.ssl else None
        self._shared: AsyncConnection | None = None
        self._connecting = asyncio.Lock()
        self._connecting_loop: asyncio.AbstractEventLoop | None = None

    async def shared(self, deadline: float) -> tuple[AsyncConnection, bool]:
        """The connection that every request shares (auto-pipelining), and whether it
        was used before; made when missing or closed."""
        loop = asyncio.get_running_loop()
        conn = self._shared
        if conn is not None and conn.usable(loop):
            return conn, True
        if self._connecting_loop is not loop:  # a lock belongs to one loop
            self._connecting, self._connecting_loop = asyncio.Lock(), loop
        async with self._connecting:
            conn = self._shared
            if conn is not None and conn.usable(loop):
                return conn, True
            conn = self._shared = await self._connect(deadline)
            return conn, False

    async def take(self, deadline: float) -> tuple[AsyncConnection, bool]:
        """A connection and whether it was used before; waits for a free one until
        ``deadline`` (then TimeoutError)."""
        loop = asyncio.get_running_loop()
        while True:
            idle = self._idle
            while idle:
                conn = idle.pop()
                if conn.usable(loop):
                    return conn, True
                self._open -= 1
            if self._open < self._options.max_connections:
                self._open += 1
                try:
                    return await self._connect(deadline), False
                except BaseException:
                    self._open -= 1
                    self._wake()
                    raise
            waiter = asyncio.get_running_loop().create_future()
            self._waiting.append(waiter)
            try:
                async with asyncio.timeout_at(deadline):
                    await waiter
            finally:
                if waiter in self._waiting:
                    self._waiting.remove(waiter)

    def give(self, conn: AsyncConnection) -> None:
        """Return ``conn`` after a whole exchange (a closed one is dropped)."""
        if conn.closed:
            self._open -= 1
        else:
            self._idle.append(conn)
        self._wake()

    def _wake(self) -> None:
        while self._waiting:
            waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    async def _connect(self, deadline: float) -> AsyncConnection:
        loop = asyncio.get_running_loop()
        connect_by = min(deadline, loop.time() + self._options.connect_timeout)
        async with asyncio.timeout_at(connect_by):
            host, port = await self._address() or self._options.hosts[0]
            _, conn = await loop.create_connection(
                lambda: AsyncConnection(loop),
                host,
                port,
                ssl=self._ssl,
                server_hostname=host if self._ssl else None,
            )
        if self._hello:
            try:
                welcomed(
                    self._hello, await conn.exchange(pack(self._hello), len(self._hello), deadline)
                )
            except BaseException:
                conn.close()
                raise
        return conn

    def drop_idle(self) -> None:
        """Close every idle connection (after one was found dead), and the shared one
        once nothing waits on it."""
        shared = self._shared
        if shared is not None and not shared.busy:
            shared.close()
        idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()
            self._open -= 1

    def close(self) -> None:
        """Close every connection, the shared one too."""
        if self._shared is not None:
            self._shared.close()
        self.drop_idle()
