"""The async Redis driver: its own connections to a standalone server, redis-py's
async client for a cluster.

On a standalone server the driver keeps its own connections (at most
``max_connections``) and talks to them directly: one ``asyncio.timeout`` bounds the
wait for a connection and the round trip together, and a connection that fails, times
out or is cancelled mid-command is closed, never reused, so no reply is ever left
unread on a connection that is handed out again. A dead idle connection (server
restarted) drops the other idle ones and the batch is sent once more; every operation
can be repeated safely. Nothing connects before the first command. Behind Sentinel, new
connections go to the primary the sentinels name (``replication.AsyncPrimary``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import redis.asyncio
import redis.asyncio.cluster
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

from websession.errors import StoreTimeout
from websession.stores.redis._async.client import on_server, send
from websession.stores.redis.errors import DRIVER_ERRORS, store_error
from websession.stores.redis.options import RedisOptions, client_settings
from websession.stores.redis.plans import Plans
from websession.stores.redis.replication import (
    AsyncPrimary,
    acknowledged,
    demoted,
    demoted_error,
    with_wait,
)
from websession.stores.redis.scripts import Command, as_eval, noscript

__all__ = ["AsyncRedisDriver"]

A = TypeVar("A")
T = TypeVar("T")


def _connection_factory(
    options: RedisOptions,
) -> Callable[[tuple[str, int] | None], redis.asyncio.Connection]:
    """Make connections to a standalone server (or the given primary's address) with no
    per-read timeout: the driver bounds each round trip as a whole (``asyncio.timeout``)."""
    host, port = options.hosts[0]
    kind = redis.asyncio.SSLConnection if options.ssl else redis.asyncio.Connection
    settings: dict[str, Any] = {
        "host": host,
        "port": port,
        "db": options.db,
        "username": options.username,
        "password": options.password,
        "socket_timeout": None,
        "socket_connect_timeout": options.connect_timeout,
        "retry": Retry(NoBackoff(), 0),  # the driver retries whole round trips
    }

    def connect(address: tuple[str, int] | None) -> redis.asyncio.Connection:
        if address is None:
            return kind(**settings)
        return kind(**{**settings, "host": address[0], "port": address[1]})

    return connect


async def _round_trip(conn: redis.asyncio.Connection, batch: list[Command]) -> list[Any]:
    """Send ``batch`` (pipelined) on ``conn`` and read every reply; a reply that is a
    server error is returned, not raised, so the connection is left with nothing unread."""
    packed = conn.pack_command(*batch[0]) if len(batch) == 1 else conn.pack_commands(batch)
    await conn.send_packed_command(packed, check_health=False)
    results: list[Any] = []
    for command in batch:
        try:
            reply = await conn.read_response()
        except ResponseError as exc:
            reply = exc
        if command[0] == "HGETALL" and isinstance(reply, list):  # RESP2: a flat list
            pairs = iter(reply)
            reply = dict(zip(pairs, pairs, strict=True))
        results.append(reply)
    return results


class AsyncRedisDriver:
    """Sends command batches to Redis / Valkey or a Redis Cluster, on asyncio."""

    def __init__(self, options: RedisOptions) -> None:
        self.options = options
        self._plans = Plans(options.prefix, options.cluster)
        self._slots = asyncio.Semaphore(options.max_connections)
        self._idle: list[redis.asyncio.Connection] = []
        self._new_connection = _connection_factory(options)  # standalone only
        self._primary = AsyncPrimary(options) if options.sentinel else None
        self._cluster: redis.asyncio.cluster.RedisCluster | None = None
        self._cluster_ready = False
        if options.cluster:
            self._cluster = redis.asyncio.cluster.RedisCluster(
                startup_nodes=[redis.asyncio.cluster.ClusterNode(h, p) for h, p in options.hosts],
                retry=Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,)),
                **client_settings(options),
            )

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.options!r})"

    async def _execute(self, batch: list[Command]) -> list[Any]:
        """One round trip: ``batch`` pipelined, every reply returned."""
        waited = with_wait(batch, self.options)
        if waited is None:
            return await self._guarded(self._send, batch)
        return acknowledged(await self._guarded(self._send, waited), self.options)

    async def _on_server(self, server: int, command: Command) -> tuple[Any, int]:
        """Run ``command`` on one server (see ``client.on_server``)."""
        if self._cluster is None:
            if server:
                return None, 1
            (reply,) = await self._execute([command])
            return reply, 1
        return await self._guarded(self._on_cluster_server, (self._cluster, server, command))

    async def _guarded(self, work: Callable[[A], Awaitable[T]], argument: A) -> T:
        """``work(argument)`` within a connection slot and the timeout, driver errors
        mapped."""
        slots = self._slots
        acquired = False
        try:
            async with asyncio.timeout(self.options.timeout):
                await slots.acquire()
                acquired = True
                return await work(argument)
        except TimeoutError as exc:
            if not acquired:
                raise StoreTimeout("no Redis connection became free in time") from exc
            raise StoreTimeout("a Redis session store command timed out") from exc
        except DRIVER_ERRORS as exc:
            raise store_error(exc) from exc
        finally:
            if acquired:
                slots.release()

    async def _send(self, batch: list[Command]) -> list[Any]:
        if self._cluster is not None:
            return await send(await self._loaded(self._cluster), batch, cluster=True)
        results = await self._exchange(batch)
        for i in noscript(batch, results):
            (results[i],) = await self._exchange([as_eval(batch[i])])
            if isinstance(results[i], Exception):
                raise results[i]
        return results

    async def _on_cluster_server(
        self, where: tuple[redis.asyncio.cluster.RedisCluster, int, Command]
    ) -> tuple[Any, int]:
        cluster, server, command = where
        return await on_server(await self._loaded(cluster), server, command, cluster=True)

    async def _loaded(
        self, cluster: redis.asyncio.cluster.RedisCluster
    ) -> redis.asyncio.cluster.RedisCluster:
        """The cluster client, its slot table loaded (it loads it lazily otherwise, and
        the pipeline routes commands by it before sending any)."""
        if not self._cluster_ready:
            await cluster.initialize()
            self._cluster_ready = True
        return cluster

    async def _exchange(self, batch: list[Command]) -> list[Any]:
        """One round trip on an idle connection, or a new one; a dead idle connection
        (server restarted) drops the other idle ones and the batch is sent once more."""
        for attempt in range(2):
            reused = bool(self._idle)
            conn = self._idle.pop() if reused else await self._connect()
            try:
                results = await _round_trip(conn, batch)
            except RedisConnectionError:
                await conn.disconnect(nowait=True)
                if self._primary is not None:  # ask the sentinels again
                    self._primary.forget()
                if not reused or attempt:
                    raise
                await self._drop_idle()
                continue
            except BaseException:
                await conn.disconnect(nowait=True)
                raise
            if self._primary is not None and demoted(results):
                self._primary.forget()
                await conn.disconnect(nowait=True)
                await self._drop_idle()
                raise demoted_error()
            self._idle.append(conn)
            return results
        raise AssertionError("unreachable")

    async def _connect(self) -> redis.asyncio.Connection:
        """A new connection: to the server, or to the primary the sentinels name."""
        if self._primary is None:
            return self._new_connection(None)
        return self._new_connection(await self._primary.find())

    async def _drop_idle(self) -> None:
        idle, self._idle = self._idle, []
        for conn in idle:
            await conn.disconnect(nowait=True)

    async def close(self) -> None:
        """Close every connection."""
        await self._drop_idle()
        if self._primary is not None:
            await self._primary.close()
        if self._cluster is not None:
            self._cluster_ready = False  # a closed cluster client loads its slots again
            await self._cluster.aclose()
