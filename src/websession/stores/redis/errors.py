"""Redis driver errors as StoreErrors; messages never echo command arguments."""

from __future__ import annotations

from redis.exceptions import ClusterDownError, RedisClusterException, RedisError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from websession.errors import StoreError, StoreTimeout, StoreUnavailable

__all__ = ["DRIVER_ERRORS", "store_error"]

DRIVER_ERRORS = (RedisError, RedisClusterException, OSError)
"""What a Redis driver raises on a failure (mapped by ``store_error``)."""


def store_error(exc: BaseException) -> StoreError:
    """The StoreError for a driver error; the message never echoes command arguments."""
    if isinstance(exc, RedisTimeoutError | TimeoutError):
        return StoreTimeout("a Redis session store command timed out")
    if isinstance(exc, RedisConnectionError | ClusterDownError | RedisClusterException | OSError):
        return StoreUnavailable("the Redis session store is unreachable")
    return StoreError("a Redis session store command failed")
