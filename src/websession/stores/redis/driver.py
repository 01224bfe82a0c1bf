"""The sync Redis driver: its own connections to a standalone server, redis-py's sync
clients for a cluster and for the primary that Sentinel names.

``RedisDriver`` is the base of ``RedisStore`` (generated from the async store's source):
it sends one batch per call, mapping driver errors to StoreErrors. On a standalone
server it talks RESP on its own sockets (``connection.Pool``). Nothing connects before
the first command. A dead pooled connection (server restarted) is replaced by one
immediate retry, which is safe because every operation can be repeated (a repeated
create finds its own record and changes nothing); timeouts are not retried.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

import redis
import redis.cluster
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.retry import Retry

from websession.errors import StoreTimeout
from websession.stores.redis._sync.client import on_server, send
from websession.stores.redis.connection import Pool
from websession.stores.redis.errors import DRIVER_ERRORS, store_error
from websession.stores.redis.options import RedisOptions, client_settings
from websession.stores.redis.plans import Plans
from websession.stores.redis.replication import acknowledged, sentinel_client, with_wait
from websession.stores.redis.scripts import Command, as_eval, noscript
from websession.stores.redis.wire import pack, pairs

__all__ = ["RedisDriver"]

_NO_SLOT = "no Redis connection became free in time"

T = TypeVar("T")


def _retry() -> Retry:
    """One immediate retry replaces a dead pooled connection; timeouts are not retried."""
    return Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,))


def _node(host: str, port: int) -> redis.cluster.ClusterNode:
    return redis.cluster.ClusterNode(host, port)  # type: ignore[no-untyped-call]  # untyped in redis-py


class RedisDriver:
    """Sends command batches to Redis / Valkey, a Redis Cluster or the primary that
    Redis Sentinel names, synchronously."""

    def __init__(self, options: RedisOptions) -> None:
        self.options = options
        self._plans = Plans(options.prefix, options.cluster)
        self._lock = threading.Lock()
        # Redis pools raise when full: the semaphore makes callers wait for a free slot
        # instead (at most one connection per server per operation).
        self._slots = threading.BoundedSemaphore(options.max_connections)
        self._client: redis.Redis | redis.cluster.RedisCluster | None = None
        self._pool = None if options.cluster or options.sentinel else Pool(options)
        if options.sentinel:
            self._client = sentinel_client(options, _retry())

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.options!r})"

    def _connected(self) -> redis.Redis | redis.cluster.RedisCluster:
        client = self._client
        if client is None:
            with self._lock:
                if self._client is None and self.options.sentinel:  # closed, used again
                    self._client = sentinel_client(self.options, _retry())
                elif self._client is None:
                    self._client = redis.cluster.RedisCluster(
                        startup_nodes=[_node(h, p) for h, p in self.options.hosts],
                        retry=_retry(),
                        **client_settings(self.options),
                    )
                client = self._client
        return client

    def _execute(self, batch: list[Command]) -> list[Any]:
        """One round trip: ``batch`` pipelined, every reply returned."""
        waited = with_wait(batch, self.options)
        if waited is None:
            return self._send(batch)
        return acknowledged(self._send(waited), self.options)

    def _send(self, batch: list[Command]) -> list[Any]:
        if self._pool is None:
            cluster = self.options.cluster
            return self._guarded(lambda client: send(client, batch, cluster=cluster))
        try:
            results = self._exchange(self._pool, batch)
            for i in noscript(batch, results):
                (results[i],) = self._exchange(self._pool, [as_eval(batch[i])])
                if isinstance(results[i], Exception):
                    raise results[i]
        except DRIVER_ERRORS as exc:
            raise store_error(exc) from exc
        return results

    def _exchange(self, pool: Pool, batch: list[Command]) -> list[Any]:
        """One round trip on an idle connection, or a new one; a dead idle connection
        (server restarted) drops the other idle ones and the batch is sent once more."""
        payload = pack(batch)
        for attempt in range(2):
            taken = pool.take()
            if taken is None:
                raise StoreTimeout(_NO_SLOT)
            conn, reused = taken
            try:
                replies = conn.exchange(payload, len(batch))
            except RedisConnectionError:
                if not reused or attempt:
                    raise
                pool.drop_idle()
                continue
            finally:
                pool.give(conn)
            return [pairs(c, r) for c, r in zip(batch, replies, strict=True)]
        raise AssertionError("unreachable")

    def _on_server(self, server: int, command: Command) -> tuple[Any, int]:
        """Run ``command`` on one server (see ``client.on_server``)."""
        if self._pool is not None:
            return (self._execute([command])[0] if server == 0 else None), 1
        cluster = self.options.cluster
        return self._guarded(lambda client: on_server(client, server, command, cluster=cluster))

    def _guarded(self, work: Callable[[Any], T]) -> T:
        """``work`` on the client within a connection slot, driver errors mapped."""
        if not self._slots.acquire(timeout=self.options.timeout):
            raise StoreTimeout(_NO_SLOT)
        try:
            return work(self._connected())
        except DRIVER_ERRORS as exc:
            raise store_error(exc) from exc
        finally:
            self._slots.release()

    def close(self) -> None:
        """Close every connection."""
        if self._pool is not None:
            self._pool.drop_idle()
        client, self._client = self._client, None
        if client is not None:
            client.close()
