"""The Redis wire protocol for the store's own connections: commands packed as RESP2,
replies parsed by hiredis, and the commands that open a connection.

Arguments are encoded as redis-py encodes them (``str`` as UTF-8, ``int`` and
``float`` by ``repr``, ``bytes`` as they are), so a record written through either
driver reads the same. Error replies become the redis-py exception classes that
redis-py raises for them, returned as replies, never raised by the parser.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import hiredis
from redis.exceptions import (
    AuthenticationError,
    BusyLoadingError,
    ClusterDownError,
    ExecAbortError,
    InvalidResponse,
    MasterDownError,
    NoPermissionError,
    NoScriptError,
    OutOfMemoryError,
    ReadOnlyError,
    RedisError,
    ResponseError,
    TryAgainError,
)
from redis.exceptions import (
    ConnectionError as RedisConnectionError,
)

from websession.stores.redis.options import RedisOptions
from websession.stores.redis.scripts import Command

__all__ = ["error_reply", "hello", "new_reader", "pack", "pairs", "welcomed"]

_ERRORS: dict[str, type[RedisError]] = {
    "NOSCRIPT": NoScriptError,
    "READONLY": ReadOnlyError,
    "LOADING": BusyLoadingError,
    "OOM": OutOfMemoryError,
    "EXECABORT": ExecAbortError,
    "NOPERM": NoPermissionError,
    "TRYAGAIN": TryAgainError,
    "CLUSTERDOWN": ClusterDownError,
    "MASTERDOWN": MasterDownError,
}
"""Error codes redis-py maps to a class of its own, with the message after the code."""

_ARRAYS = [b"*%d\r\n" % n for n in range(16)]


def pack(batch: Iterable[Command]) -> bytes:
    """The RESP2 bytes of ``batch`` (pipelined: one write for every command)."""
    parts: list[bytes] = []
    add = parts.append
    for command in batch:
        n = len(command)
        add(_ARRAYS[n] if n < 16 else b"*%d\r\n" % n)
        for value in command:
            kind = type(value)
            if kind is str:
                data = value.encode()
            elif kind is bytes:
                data = value
            elif kind is int or kind is float:
                data = repr(value).encode()
            else:
                data = _other(value)
            add(b"$%d\r\n%b\r\n" % (len(data), data))
    return b"".join(parts)


def _other(value: Any) -> bytes:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    if isinstance(value, str):
        return value.encode()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return repr(value).encode()
    raise TypeError(f"a Redis command argument of type {type(value).__name__}")


def new_reader() -> hiredis.Reader:
    """A reply parser: bytes as bytes, error replies as redis-py exceptions."""
    return hiredis.Reader(protocolError=InvalidResponse, replyError=error_reply)


def error_reply(message: str) -> Exception:
    """The redis-py exception for an error reply (``WRONGPASS``/``NOAUTH``: bad
    credentials; ``NOSCRIPT``, ``READONLY``, ...: their own classes; else ResponseError,
    with the code kept in the message)."""
    code, _, rest = message.partition(" ")
    if code in ("WRONGPASS", "NOAUTH"):
        return AuthenticationError(rest)
    if message == "ERR max number of clients reached":
        return RedisConnectionError(rest)
    kind = _ERRORS.get(code)
    return ResponseError(message) if kind is None else kind(rest)


def pairs(command: Command, reply: Any) -> Any:
    """``reply`` as redis-py gives it: an HGETALL's flat RESP2 list as a dict."""
    if command[0] == "HGETALL" and isinstance(reply, list):
        fields = iter(reply)
        return dict(zip(fields, fields, strict=True))
    return reply


def hello(options: RedisOptions) -> list[Command]:
    """The commands that open a connection: AUTH, then SELECT (none when not needed)."""
    commands: list[Command] = []
    if options.password is not None:
        user = () if options.username is None else (options.username,)
        commands.append(("AUTH", *user, options.password))
    if options.db:
        commands.append(("SELECT", options.db))
    return commands


def welcomed(commands: list[Command], replies: list[Any]) -> None:
    """Raise if the server refused a command of ``hello`` (a wrong password is an
    AuthenticationError, a connection error: 503)."""
    for command, reply in zip(commands, replies, strict=True):
        if isinstance(reply, ResponseError):
            if command[0] == "AUTH":
                raise AuthenticationError("the Redis server refused the credentials")
            raise reply
