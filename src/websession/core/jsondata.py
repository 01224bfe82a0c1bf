"""JSON-only session values: validation and (de)serialization with orjson."""

from __future__ import annotations

import math
from typing import Any

import orjson

from websession.errors import SessionDataError

__all__ = ["RESERVED_PREFIX", "check_key", "check_value", "dumps", "loads"]

RESERVED_PREFIX = "_ws_"
"""Keys starting with this belong to websession itself (CSRF token, device data)."""

_MAX_DEPTH = 64
loads = orjson.loads


def dumps(value: Any) -> bytes:
    """Serialize a JSON value (already checked) to compact UTF-8 bytes."""
    return orjson.dumps(value)


def check_key(key: object, *, internal: bool = False) -> str:
    """Return ``key`` if it can name a session value, else raise SessionDataError."""
    if type(key) is not str:
        raise SessionDataError(
            f"session keys must be str, not {type(key).__name__} ({key!r})", key=repr(key)
        )
    problem = _text_problem(key)
    if problem is not None:
        raise SessionDataError(f"session key {key!r} cannot be stored: {problem}", key=key)
    if not internal and key.startswith(RESERVED_PREFIX):
        raise SessionDataError(
            f"session key {key!r} is reserved: keys starting with {RESERVED_PREFIX!r} "
            "belong to websession",
            key=key,
        )
    return key


def check_value(key: str, value: object) -> None:
    """Raise SessionDataError naming ``key`` unless ``value`` round-trips through JSON.

    Allowed: dict with str keys, list, tuple (stored as a list), str, int, finite float,
    bool and None, nested at most 64 deep. Strings (and dict keys) must be valid
    Unicode without U+0000, which every store can keep (PostgreSQL's JSONB cannot
    hold U+0000, and a lone surrogate has no UTF-8 form).
    """
    problem = _find_problem(value, 0)
    if problem is not None:
        raise SessionDataError(
            f"session value for key {key!r} is not JSON: {problem}; store plain dicts, "
            "lists, strings, numbers, booleans or None",
            key=key,
        )


def _find_problem(value: object, depth: int) -> str | None:
    kind = type(value)
    if kind is str:
        return _text_problem(value)  # type: ignore[arg-type]
    if kind is int or kind is bool or value is None:
        if kind is int and not -(2**63) <= value < 2**64:  # type: ignore[operator]
            return "integer out of the 64-bit range"
        return None
    if kind is float:
        return None if math.isfinite(value) else f"{value!r} is not a JSON number"  # type: ignore[arg-type]
    if depth >= _MAX_DEPTH:
        return f"nested deeper than {_MAX_DEPTH} levels"
    if kind is list or kind is tuple:
        for item in value:  # type: ignore[attr-defined]
            problem = _find_problem(item, depth + 1)
            if problem is not None:
                return problem
        return None
    if kind is dict:
        for name, item in value.items():  # type: ignore[attr-defined]
            if type(name) is not str:
                return f"dict key {name!r} is not a str"
            problem = _text_problem(name)
            if problem is not None:
                return f"dict key {name!r}: {problem}"
            problem = _find_problem(item, depth + 1)
            if problem is not None:
                return problem
        return None
    return f"{kind.__name__} values cannot be stored"


def _text_problem(text: str) -> str | None:
    if "\x00" in text:
        return "it contains U+0000 (NUL); encode binary data, e.g. as base64"
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return "it contains a lone surrogate, which is not valid Unicode text"
    return None
