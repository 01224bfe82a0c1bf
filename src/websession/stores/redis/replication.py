"""Replication: the primary that Redis Sentinel names, and writes acknowledged by replicas.

**Sentinel** (``redis+sentinel://s1:26379,s2:26379/mymaster/0``). The sync driver uses
redis-py's ``Sentinel.master_for`` client: every new connection asks the sentinels
where the primary is, and a connection to a primary that was demoted is dropped. The
async driver keeps its own connections (``async_driver``): ``AsyncPrimary`` asks the
sentinels for the primary's address before it opens a connection while the address is
unknown, and forgets it when a connection to it fails or the server answers READONLY
(it was demoted), so the next request finds the new primary. Sentinels answer only
with a primary they do not consider down, so during a failover requests fail fast
(503) instead of waiting on a dead server. The sentinels' password, if any, is the
primary's.

**WAIT** (``?wait=1``). Redis replicates asynchronously: a write the primary
acknowledged can be missing from the replica that a failover promotes. With ``wait``,
each batch that writes ends with ``WAIT <wait> <timeout/2 ms>`` in the same round trip
(scripts are then sent as ``EVAL``, so no NOSCRIPT retry can escape the ``WAIT``), and
a write that fewer replicas acknowledged fails with ``StoreUnavailable``.
"""

from __future__ import annotations

from typing import Any

import redis
import redis.asyncio.sentinel
import redis.sentinel
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ReadOnlyError, ResponseError

from websession.errors import StoreUnavailable
from websession.stores.redis.options import RedisOptions, client_settings
from websession.stores.redis.scripts import Command, as_eval

__all__ = ["AsyncPrimary", "acknowledged", "demoted", "sentinel_client", "with_wait"]

_WRITES = frozenset({"EVALSHA", "EVAL", "DEL", "ZREM"})


def _sentinel_settings(options: RedisOptions) -> dict[str, Any]:
    """Connection settings for the sentinels: the primary's, without its pool size."""
    settings = client_settings(options)
    del settings["max_connections"]
    return settings


def sentinel_client(options: RedisOptions, retry: Any) -> redis.Redis:
    """The sync client of the primary that the sentinels of ``options`` name."""
    assert options.sentinel is not None  # noqa: S101 - only for redis+sentinel://
    sentinel = redis.sentinel.Sentinel(  # type: ignore[no-untyped-call]  # untyped in redis-py
        list(options.hosts), sentinel_kwargs=_sentinel_settings(options)
    )
    client: redis.Redis = sentinel.master_for(  # type: ignore[no-untyped-call]  # untyped too
        options.sentinel, db=options.db, ssl=options.ssl, retry=retry, **client_settings(options)
    )
    return client


class AsyncPrimary:
    """The address of the primary, asked of the sentinels while it is not known."""

    def __init__(self, options: RedisOptions) -> None:
        assert options.sentinel is not None  # noqa: S101 - only for redis+sentinel://
        self._service = options.sentinel
        self._sentinel = redis.asyncio.sentinel.Sentinel(  # type: ignore[no-untyped-call]  # redis-py
            list(options.hosts), sentinel_kwargs=_sentinel_settings(options)
        )
        self.address: tuple[str, int] | None = None

    async def find(self) -> tuple[str, int]:
        """The primary's address (one query to the sentinels when it is not known);
        raises MasterNotFoundError (a ConnectionError) if no sentinel names a live one."""
        address = self.address
        if address is None:
            host, port = await self._sentinel.discover_master(self._service)
            address = self.address = (str(host), int(port))
        return address

    def forget(self) -> None:
        """Ask the sentinels again before the next connection (the primary failed)."""
        self.address = None

    async def close(self) -> None:
        """Close the connections to the sentinels."""
        for sentinel in self._sentinel.sentinels:
            await sentinel.aclose()


def demoted(results: list[Any]) -> bool:
    """True if a reply says the server is a read-only replica now (a failover
    demoted the primary we were connected to)."""
    return any(
        isinstance(reply, ReadOnlyError)
        or (isinstance(reply, ResponseError) and "READONLY" in str(reply))
        for reply in results
    )


def demoted_error() -> RedisConnectionError:
    """The error for a demoted primary: a connection error, so it answers 503."""
    return RedisConnectionError("the Redis primary was demoted to a replica")


def with_wait(batch: list[Command], options: RedisOptions) -> list[Command] | None:
    """``batch`` ending with a ``WAIT`` if it writes and ``options.wait`` asks for it
    (scripts as ``EVAL``); None when no WAIT is needed."""
    if not options.wait or not any(command[0] in _WRITES for command in batch):
        return None
    timeout_ms = max(1, int(options.timeout * 500))
    sent = [as_eval(c) if c[0] == "EVALSHA" else c for c in batch]
    return [*sent, ("WAIT", options.wait, timeout_ms)]


def acknowledged(results: list[Any], options: RedisOptions) -> list[Any]:
    """The replies of a batch sent ``with_wait``, without the WAIT's; raises
    StoreUnavailable if fewer replicas than ``options.wait`` acknowledged it."""
    replicas = results.pop()
    if isinstance(replicas, BaseException) or int(replicas) < options.wait:
        raise StoreUnavailable(
            f"a Redis write was not acknowledged by {options.wait} replica(s) in time"
        )
    return results
