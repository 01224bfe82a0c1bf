"""The async Redis driver: its own connections to a standalone server, redis-py's
async client for a cluster.

On a standalone server (or the primary that Sentinel names) the driver keeps its own
connections (``async_connection.AsyncPool``, at most ``max_connections``) and talks to them
directly with pre-packed RESP (``wire``): each operation has one deadline, ``timeout``
from its start, for the wait for a connection and every round trip; a connection that
fails, times out or is cancelled mid-command is closed, never reused. A dead idle
connection (server restarted) drops the other idle ones and the batch is sent once
more; every operation can be repeated safely. Nothing connects before the first
command. Behind Sentinel, new connections go to the primary the sentinels name
(``replication.AsyncPrimary``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import redis.asyncio.cluster
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError

from websession.errors import StoreTimeout
from websession.stores.redis._async.client import on_server, send
from websession.stores.redis.async_connection import AsyncPool
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
from websession.stores.redis.wire import pack, pairs

__all__ = ["AsyncRedisDriver"]

A = TypeVar("A")
T = TypeVar("T")

_NO_SLOT = "no Redis connection became free in time"
_TIMED_OUT = "a Redis session store command timed out"


class AsyncRedisDriver:
    """Sends command batches to Redis / Valkey or a Redis Cluster, on asyncio."""

    def __init__(self, options: RedisOptions) -> None:
        self.options = options
        self._plans = Plans(options.prefix, options.cluster)
        self._slots = asyncio.Semaphore(options.max_connections)  # cluster only
        self._primary = AsyncPrimary(options) if options.sentinel else None
        self._pool = AsyncPool(options, self._address)  # standalone and Sentinel
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
        send = self._send if self._cluster is None else self._send_cluster
        waited = with_wait(batch, self.options)
        if waited is None:
            return await send(batch)
        return acknowledged(await send(waited), self.options)

    async def _on_server(self, server: int, command: Command) -> tuple[Any, int]:
        """Run ``command`` on one server (see ``client.on_server``)."""
        if self._cluster is None:
            if server:
                return None, 1
            (reply,) = await self._execute([command])
            return reply, 1
        return await self._guarded(self._on_cluster_server, (self._cluster, server, command))

    async def _send(self, batch: list[Command]) -> list[Any]:
        """``batch`` on the driver's own connections, by the operation's deadline; a
        script unknown to the server is sent once more as EVAL."""
        deadline = asyncio.get_running_loop().time() + self.options.timeout
        try:
            results = await self._exchange(batch, deadline)
            for i in noscript(batch, results):
                (results[i],) = await self._exchange([as_eval(batch[i])], deadline)
                if isinstance(results[i], Exception):
                    raise results[i]
        except TimeoutError as exc:
            raise StoreTimeout(_TIMED_OUT) from exc
        except DRIVER_ERRORS as exc:
            raise store_error(exc) from exc
        return results

    async def _send_cluster(self, batch: list[Command]) -> list[Any]:
        return await self._guarded(self._cluster_batch, batch)

    async def _cluster_batch(self, batch: list[Command]) -> list[Any]:
        assert self._cluster is not None  # noqa: S101 - only on a cluster
        return await send(await self._loaded(self._cluster), batch, cluster=True)

    async def _guarded(self, work: Callable[[A], Awaitable[T]], argument: A) -> T:
        """``work(argument)`` on the cluster client within a connection slot and the
        timeout, driver errors mapped."""
        slots = self._slots
        acquired = False
        try:
            async with asyncio.timeout(self.options.timeout):
                await slots.acquire()
                acquired = True
                return await work(argument)
        except TimeoutError as exc:
            raise StoreTimeout(_TIMED_OUT if acquired else _NO_SLOT) from exc
        except DRIVER_ERRORS as exc:
            raise store_error(exc) from exc
        finally:
            if acquired:
                slots.release()

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

    async def _exchange(self, batch: list[Command], deadline: float) -> list[Any]:
        """One round trip on an idle connection, or a new one; a dead idle connection
        (server restarted) drops the other idle ones and the batch is sent once more."""
        if self.options.autopipeline and batch[-1][0] != "WAIT":
            return await self._pipelined(batch, deadline)
        pool = self._pool
        payload = pack(batch)
        for attempt in range(2):
            try:
                conn, reused = await pool.take(deadline)
            except TimeoutError as exc:
                raise StoreTimeout(_NO_SLOT) from exc
            try:
                replies = await conn.exchange(payload, len(batch), deadline)
            except RedisConnectionError:
                conn.close()
                pool.give(conn)
                if self._primary is not None:  # ask the sentinels again
                    self._primary.forget()
                if not reused or attempt:
                    raise
                pool.drop_idle()
                continue
            except BaseException:
                conn.close()
                pool.give(conn)
                raise
            results = [pairs(c, r) for c, r in zip(batch, replies, strict=True)]
            if self._primary is not None and demoted(results):
                self._primary.forget()
                conn.close()
                pool.give(conn)
                pool.drop_idle()
                raise demoted_error()
            pool.give(conn)
            return results
        raise AssertionError("unreachable")

    async def _pipelined(self, batch: list[Command], deadline: float) -> list[Any]:
        """One round trip on the shared connection (auto-pipelining); a dead shared
        connection is made again and the batch sent once more. A cancelled caller
        leaves the connection open: its replies are read and dropped in order."""
        payload = pack(batch)
        for attempt in range(2):
            conn, reused = await self._pool.shared(deadline)
            try:
                replies = await conn.exchange(payload, len(batch), deadline)
            except RedisConnectionError:
                if self._primary is not None:  # ask the sentinels again
                    self._primary.forget()
                if not reused or attempt:
                    raise
                continue
            results = [pairs(c, r) for c, r in zip(batch, replies, strict=True)]
            if self._primary is not None and demoted(results):
                self._primary.forget()
                conn.close()
                raise demoted_error()
            return results
        raise AssertionError("unreachable")

    async def _address(self) -> tuple[str, int] | None:
        """Where new connections go: the primary the sentinels name, or the server of
        the URL (None)."""
        return None if self._primary is None else await self._primary.find()

    async def close(self) -> None:
        """Close every connection."""
        self._pool.close()
        if self._primary is not None:
            await self._primary.close()
        if self._cluster is not None:
            self._cluster_ready = False  # a closed cluster client loads its slots again
            await self._cluster.aclose()
