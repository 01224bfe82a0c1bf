"""Driver errors as StoreErrors, and the client settings both drivers share."""

from __future__ import annotations

from typing import Any

from redis.exceptions import (
    ClusterDownError,
    NoScriptError,
    RedisClusterException,
    RedisError,
)
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from websession.errors import StoreError, StoreTimeout, StoreUnavailable
from websession.stores.redis.options import RedisOptions
from websession.stores.redis.scripts import Command

__all__ = ["DRIVER_ERRORS", "client_settings", "first_key", "noscript", "store_error"]

DRIVER_ERRORS = (RedisError, RedisClusterException, OSError)
"""What a Redis driver raises on a failure (mapped by ``store_error``)."""


def store_error(exc: BaseException) -> StoreError:
    """The StoreError for a driver error; the message never echoes command arguments."""
    if isinstance(exc, RedisTimeoutError | TimeoutError):
        return StoreTimeout("a Redis session store command timed out")
    if isinstance(exc, RedisConnectionError | ClusterDownError | RedisClusterException | OSError):
        return StoreUnavailable("the Redis session store is unreachable")
    return StoreError("a Redis session store command failed")


def noscript(results: list[Any]) -> list[int]:
    """Positions of pipelined scripts to run again by EVAL; raise any other error."""
    for result in results:
        if isinstance(result, Exception) and not isinstance(result, NoScriptError):
            raise result
    return [i for i, result in enumerate(results) if isinstance(result, NoScriptError)]


def first_key(command: Command) -> Any:
    """The key a command is routed by on a cluster."""
    return command[3] if command[0] in ("EVALSHA", "EVAL") else command[1]


def client_settings(options: RedisOptions) -> dict[str, Any]:
    """redis-py client settings common to every kind of client."""
    return {
        "username": options.username,
        "password": options.password,
        "socket_timeout": options.timeout,
        "socket_connect_timeout": options.connect_timeout,
        "max_connections": options.max_connections,
    }
