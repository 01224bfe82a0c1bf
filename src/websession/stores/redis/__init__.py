"""Redis / Valkey store, sync and async, standalone or Redis Cluster (redis-py + hiredis).

URLs and their options: ``websession.stores.redis.options``. Nothing connects until
the first command, so an app starts while Redis is down and answers 503 until it is
back. Deadlines are absolute (PEXPIREAT), so keep the Redis and app clocks in sync; the
engine enforces expiry on read in any case.

The package, one room per concept::

    options.py        RedisOptions, parse_url
    scripts.py        the Lua scripts (each one atomic step on the server)
    plans.py          every operation as a sans-IO plan; key layout, round trips and
                      the Redis Cluster trade-offs are described there
    errors.py         driver errors as StoreErrors
    _async/client.py  batches through a redis-py client (sync twin generated)
    driver.py         the sync driver (redis-py's clients)
    async_driver.py   the async driver (own connections; redis-py's cluster client)
    _async/store.py   the operations, on the async driver; ``_sync/store.py`` is
                      generated from it by scripts/generate_sync.py
"""

from __future__ import annotations

from websession.stores.redis._async.store import AsyncRedisStore
from websession.stores.redis._sync.store import RedisStore
from websession.stores.redis.options import RedisOptions, parse_url

__all__ = ["AsyncRedisStore", "RedisOptions", "RedisStore", "open_async", "open_sync", "parse_url"]


def open_sync(url: str) -> RedisStore:
    """The sync store for a Redis URL; connects on first use."""
    return RedisStore(parse_url(url))


def open_async(url: str) -> AsyncRedisStore:
    """The async store for a Redis URL; connects on first use."""
    return AsyncRedisStore(parse_url(url))
