"""The store's own Redis wire code: commands packed as redis-py packs them, and error
replies parsed into the exception classes redis-py raises for them."""

from __future__ import annotations

import pytest
from redis.connection import PythonRespSerializer
from redis.exceptions import (
    AuthenticationError,
    BusyLoadingError,
    NoScriptError,
    ReadOnlyError,
    ResponseError,
)
from redis.exceptions import ConnectionError as RedisConnectionError

from websession.stores.redis.wire import error_reply, new_reader, pack


def test_pack_matches_redis_py() -> None:
    command = ("HSET", "ws:k", "d", '{"a": 1}', "x", 12, "y", 1.5, "z", b"\x00\xff")
    serializer = PythonRespSerializer(6000, lambda value: value)
    packed = serializer.pack(*(_encode(v) for v in command))  # type: ignore[no-untyped-call]
    expected = b"".join(packed)
    assert pack([command]) == expected
    assert pack([command, ("GET", "ws:k")]) == expected + b"*2\r\n$3\r\nGET\r\n$4\r\nws:k\r\n"


def _encode(value: object) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode()
    return repr(value).encode()


def test_pack_refuses_an_unknown_argument_type() -> None:
    with pytest.raises(TypeError, match="list"):
        pack([("SET", "k", [1])])


@pytest.mark.parametrize(
    ("reply", "kind", "text"),
    [
        ("NOSCRIPT No matching script.", NoScriptError, "No matching script."),
        ("READONLY You can't write against a read only replica.", ReadOnlyError, None),
        ("LOADING Redis is loading the dataset in memory", BusyLoadingError, None),
        ("WRONGPASS invalid username-password pair", AuthenticationError, None),
        ("NOAUTH Authentication required.", AuthenticationError, None),
        ("ERR max number of clients reached", RedisConnectionError, None),
        (
            "WRONGTYPE Operation against a key holding the wrong kind of value",
            ResponseError,
            "WRONGTYPE Operation against a key holding the wrong kind of value",
        ),
        ("ERR unknown command 'X'", ResponseError, "ERR unknown command 'X'"),
    ],
)
def test_error_replies_become_redis_py_classes(
    reply: str, kind: type[Exception], text: str | None
) -> None:
    error = error_reply(reply)
    assert type(error) is kind
    if text is not None:
        assert str(error) == text


def test_the_reader_returns_errors_as_replies() -> None:
    reader = new_reader()
    reader.feed(b"-NOSCRIPT No matching script.\r\n$2\r\nok\r\n")
    first = reader.gets()
    assert isinstance(first, NoScriptError)
    assert reader.gets() == b"ok"
    assert reader.gets() is False
