"""JSON-only session values: validation and (de)serialization with orjson.

Values are the JSON types, and their subclasses (``StrEnum``, ``IntEnum``,
``OrderedDict``, ``defaultdict`` …), which are stored as their base JSON type. Float
and tuple subclasses, which orjson does not serialize, are converted to their base
type when they are set (``json_value``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from typing import Any, cast

import orjson

from websession.errors import SessionDataError

__all__ = [
    "RESERVED_PREFIX",
    "REVOKED_KEY",
    "check_key",
    "check_value",
    "dumps",
    "json_value",
    "loads",
]

RESERVED_PREFIX = "_ws_"
"""Keys starting with this belong to websession itself (CSRF token, device data)."""

REVOKED_KEY = RESERVED_PREFIX + "revoked"
"""Set (to the revocation time) on a session that was logged out but is kept until its
deadline, so a replay can be told apart from an unknown token. Never served (see
``core.lifecycle``, which re-exports it)."""

_MAX_DEPTH = 64
_CONVERT = "convert"  # a _find_problem result: valid, but orjson needs the base type
loads = orjson.loads


def dumps(value: Any) -> bytes:
    """Serialize a JSON value (already checked) to compact UTF-8 bytes."""
    return orjson.dumps(value, default=_base_type)


def _base_type(value: object) -> object:
    """orjson's fallback: float and tuple subclasses as their base JSON type."""
    if isinstance(value, float):
        return float(value)
    if isinstance(value, tuple):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def check_key(key: object, *, internal: bool = False) -> str:
    """Return ``key`` (a str subclass such as a ``StrEnum`` as its plain str) if it can
    name a session value, else raise SessionDataError."""
    if type(key) is not str:
        if not isinstance(key, str):
            raise SessionDataError(
                f"session keys must be str, not {type(key).__name__} ({key!r})", key=repr(key)
            )
        key = str.__str__(key)
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
    bool and None, and their subclasses, nested at most 64 deep. Strings (and dict
    keys) must be valid Unicode without U+0000, which every store can keep
    (PostgreSQL's JSONB cannot hold U+0000, and a lone surrogate has no UTF-8 form).
    """
    json_value(key, value)


def json_value(key: str, value: Any) -> Any:
    """Return ``value`` as it can be stored: itself, or (when it holds float or tuple
    subclasses) a copy made of base JSON types. Raise SessionDataError naming ``key``
    when it is not JSON (see ``check_value``)."""
    problem = _find_problem(value, 0)
    if problem is None:
        return value
    if problem is _CONVERT:
        return orjson.loads(orjson.dumps(value, default=_base_type, option=orjson.OPT_NON_STR_KEYS))
    raise SessionDataError(
        f"session value for key {key!r} is not JSON: {problem}; store plain dicts, "
        "lists, strings, numbers, booleans or None",
        key=key,
    )


def _find_problem(value: object, depth: int) -> str | None:
    """None if ``value`` is JSON as it is, ``_CONVERT`` if only as its base types,
    else what is wrong with it."""
    kind = type(value)
    if kind is str:
        return _text_problem(cast(str, value))
    if kind is int or kind is bool or value is None:
        if kind is int and not -(2**63) <= cast(int, value) < 2**64:
            return "integer out of the 64-bit range"
        return None
    if kind is float:
        return None if math.isfinite(cast(float, value)) else f"{value!r} is not a JSON number"
    if depth >= _MAX_DEPTH:
        return f"nested deeper than {_MAX_DEPTH} levels"
    if kind is list or kind is tuple:
        return _items_problem(cast("list[object]", value), depth)
    if kind is dict:
        return _dict_problem(cast("dict[object, object]", value), depth)
    return _subclass_problem(value, depth)


def _subclass_problem(value: object, depth: int) -> str | None:
    """Subclasses of the JSON types: orjson keeps str, int, list and dict ones."""
    if isinstance(value, str):
        return _text_problem(value)
    if isinstance(value, int):
        return None if -(2**63) <= value < 2**64 else "integer out of the 64-bit range"
    if isinstance(value, float):
        return _CONVERT if math.isfinite(value) else f"{value!r} is not a JSON number"
    if isinstance(value, list):
        return _items_problem(value, depth)
    if isinstance(value, tuple):
        return _items_problem(value, depth) or _CONVERT
    if isinstance(value, dict):
        return _dict_problem(value, depth)
    return f"{type(value).__name__} values cannot be stored"


def _items_problem(items: list[object] | tuple[object, ...], depth: int) -> str | None:
    return _first(_find_problem(item, depth + 1) for item in items)


def _dict_problem(value: dict[object, object], depth: int) -> str | None:
    return _first(_entry_problems(value, depth))


def _entry_problems(value: dict[object, object], depth: int) -> Iterator[str | None]:
    for name, item in value.items():
        if type(name) is not str:
            yield _CONVERT if isinstance(name, str) else f"dict key {name!r} is not a str"
        problem = _text_problem(name)  # type: ignore[arg-type]  # a str, or refused above
        yield None if problem is None else f"dict key {name!r}: {problem}"
        yield _find_problem(item, depth + 1)


def _first(problems: Iterable[str | None]) -> str | None:
    """The first real problem; else ``_CONVERT`` if any, else None."""
    found = None
    for problem in problems:
        if problem is _CONVERT:
            found = _CONVERT
        elif problem is not None:
            return problem
    return found


def _text_problem(text: str) -> str | None:
    if "\x00" in text:
        return "it contains U+0000 (NUL); encode binary data, e.g. as base64"
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return "it contains a lone surrogate, which is not valid Unicode text"
    return None
