"""A ``dict`` that records its changes, so a save writes only the keys that changed.

It records which top-level keys were set or removed, and snapshots container values
when they are handed out (``[]``, ``get``, ``setdefault``, ``items``, ``values``,
``copy``), so in-place mutation (``d["cart"].append(x)``) is caught too. Any read
marks it accessed. Values must be JSON (``core.jsondata``); a subclass whose
in-memory values differ from their stored JSON form (Flask's tagged values) sets
``_converts`` and implements ``to_stored`` / ``from_stored``.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any, ClassVar, NoReturn, Self

from websession.core.jsondata import check_key, dumps, json_value
from websession.types import JSONValue

__all__ = ["TrackedDict"]

_CONTAINERS = (dict, list, tuple)
_MISSING: Any = object()


class TrackedDict(dict[str, Any]):
    """A dict of JSON values that knows what changed since it was loaded."""

    __slots__ = ("_removed", "_set", "_snapshots", "accessed")

    _converts: ClassVar[bool] = False
    """True in subclasses whose in-memory values differ from their stored JSON form
    (``to_stored`` / ``from_stored`` are then called)."""

    def __init__(self) -> None:
        self.accessed = False
        """True once the data was read or written in this request."""
        self._set: set[str] = set()
        self._removed: set[str] = set()
        self._snapshots: dict[str, bytes | None] = {}

    # -- stored form: identity here, tagged JSON in Flask's subclass ------------------------

    def from_stored(self, data: dict[str, JSONValue]) -> dict[str, Any]:
        """Return the in-memory values of stored ``data`` (only when ``_converts``)."""
        return data

    def to_stored(self, name: str, value: Any) -> JSONValue:
        """Return the JSON form of ``value`` (only when ``_converts``)."""
        return value

    def _checked(self, name: str, value: Any) -> Any:
        """The value to keep for ``name``; SessionDataError if it cannot be stored."""
        if self._converts:
            json_value(name, self.to_stored(name, value))
            return value
        if type(value) is tuple:
            value = list(value)
        return json_value(name, value)

    def _snapshot(self, name: str, value: Any) -> None:
        if name not in self._snapshots and name not in self._set:
            self._snapshots[name] = _dumps_or_none(
                self.to_stored(name, value) if self._converts else value
            )

    # -- reading -------------------------------------------------------------------------

    def __getitem__(self, name: str) -> Any:
        self.accessed = True
        value = dict.__getitem__(self, name)
        if isinstance(value, _CONTAINERS):
            self._snapshot(name, value)
        return value

    def get(self, name: str, default: Any = None) -> Any:
        """Return the value of ``name``, or ``default``."""
        self.accessed = True
        value = dict.get(self, name, _MISSING)
        if value is _MISSING:
            return default
        if isinstance(value, _CONTAINERS):
            self._snapshot(name, value)
        return value

    def __contains__(self, name: object) -> bool:
        self.accessed = True
        return dict.__contains__(self, name)

    def __iter__(self) -> Iterator[str]:
        self.accessed = True
        return dict.__iter__(self)

    def __len__(self) -> int:
        self.accessed = True
        return dict.__len__(self)

    def keys(self) -> Any:
        """The keys (a live view)."""
        self.accessed = True
        return dict.keys(self)

    def values(self) -> Any:
        """The values (a live view); containers handed out are tracked."""
        self._hand_out_all()
        return dict.values(self)

    def items(self) -> Any:
        """The items (a live view); containers handed out are tracked."""
        self._hand_out_all()
        return dict.items(self)

    def copy(self) -> dict[str, Any]:
        """A shallow copy as a plain dict; its containers are this session's, tracked."""
        self._hand_out_all()
        return dict(dict.items(self))

    def __or__(self, other: Any) -> dict[str, Any]:  # type: ignore[override]  # a plain dict, as dict's
        self._hand_out_all()
        return dict.__or__(self, other)

    def __ror__(self, other: Any) -> dict[str, Any]:  # type: ignore[override]  # a plain dict, as dict's
        self._hand_out_all()
        return dict.__ror__(self, other)

    def _hand_out_all(self) -> None:
        self.accessed = True
        for name, value in dict.items(self):
            if isinstance(value, _CONTAINERS):
                self._snapshot(name, value)

    def __copy__(self) -> dict[str, Any]:
        return self.copy()

    def __deepcopy__(self, memo: dict[int, Any]) -> dict[str, Any]:
        return copy.deepcopy(self.copy(), memo)

    def __reduce__(self) -> NoReturn:
        raise TypeError("session data is not picklable (websession never pickles): use dict()")

    # -- writing -------------------------------------------------------------------------

    def __setitem__(self, name: str, value: Any) -> None:
        name = check_key(name)
        dict.__setitem__(self, name, self._checked(name, value))  # _put, inlined
        self.accessed = True
        self._set.add(name)
        self._removed.discard(name)
        self._snapshots.pop(name, None)

    def __delitem__(self, name: str) -> None:
        dict.__delitem__(self, name)
        self._forget(name)

    def pop(self, name: str, default: Any = _MISSING) -> Any:
        """Remove ``name`` and return its value (``default``, or KeyError, if absent)."""
        value = dict.pop(self, name, _MISSING)
        if value is _MISSING:
            if default is _MISSING:
                raise KeyError(name)
            return default
        self._forget(name)
        return value

    def popitem(self) -> tuple[str, Any]:
        """Remove and return the last inserted item (LIFO, as ``dict``)."""
        name, value = dict.popitem(self)
        self._forget(name)
        return name, value

    def setdefault(self, name: str, default: Any = None) -> Any:
        """Return the value of ``name``, setting it to ``default`` first if absent."""
        if dict.__contains__(self, name):
            return self[name]
        self[name] = default
        return dict.__getitem__(self, name)

    def update(self, *args: Any, **kwargs: Any) -> None:
        """Set several keys at once; nothing is set if one of them cannot be stored."""
        items = dict(*args, **kwargs)
        checked = {check_key(name): self._checked(name, value) for name, value in items.items()}
        for name, value in checked.items():
            self._keep(name, value)

    def __ior__(self, other: Any) -> Self:  # type: ignore[override]  # dict's signature
        self.update(other)
        return self

    def clear(self) -> None:
        """Remove every key."""
        self.accessed = True
        self._removed.update(dict.keys(self))
        dict.clear(self)
        self._set.clear()
        self._snapshots.clear()

    def _put(self, name: str, value: Any) -> None:
        dict.__setitem__(self, name, self._checked(name, value))  # _keep, inlined
        self.accessed = True
        self._set.add(name)
        self._removed.discard(name)
        self._snapshots.pop(name, None)

    def _keep(self, name: str, value: Any) -> None:
        dict.__setitem__(self, name, value)
        self.accessed = True
        self._set.add(name)
        self._removed.discard(name)
        self._snapshots.pop(name, None)

    def _forget(self, name: str) -> None:
        self.accessed = True
        self._set.discard(name)
        self._snapshots.pop(name, None)
        self._removed.add(name)

    # -- what changed ------------------------------------------------------------------

    def mark_accessed(self) -> None:
        """Mark the data read (Starlette's ``request.session`` calls this)."""
        self.accessed = True

    def data_changed(self) -> bool:
        """True if a key was set or removed, or a value mutated in place."""
        return bool(self._set or self._removed or (self._snapshots and self._mutated()))

    def rewrite_all(self) -> None:
        """Write every key back at the end of the request."""
        self.accessed = True
        self._set.update(dict.keys(self))

    def forget_changes(self) -> None:
        """Forget the changes made so far: the data now counts as unchanged (changes
        made from now on, in place ones included, are caught again)."""
        names = self._set | self._snapshots.keys()
        self._set.clear()
        self._removed.clear()
        self._snapshots.clear()
        for name in names:
            value = dict.get(self, name)
            if isinstance(value, _CONTAINERS):
                self._snapshot(name, value)

    def _mutated(self) -> list[str]:
        return [
            name
            for name, before in self._snapshots.items()
            if dict.__contains__(self, name) and self._dumped(name) != before
        ]

    def _dumped(self, name: str) -> bytes | None:
        value = dict.__getitem__(self, name)
        return _dumps_or_none(self.to_stored(name, value) if self._converts else value)

    def data_changes(self) -> tuple[dict[str, JSONValue], frozenset[str]]:
        """Return the keys set (with their stored values) and the keys removed; values
        mutated in place are checked for JSON here (SessionDataError naming the key)."""
        if self._converts:
            changed = {name: self._stored_value(name) for name in self._set}
        else:
            get = dict.__getitem__
            changed = {name: get(self, name) for name in self._set}
        for name in self._mutated():
            changed[name] = json_value(name, self._stored_value(name))
        return changed, frozenset(self._removed)

    def _stored_value(self, name: str) -> JSONValue:
        value = dict.__getitem__(self, name)
        return json_value(name, self.to_stored(name, value)) if self._converts else value

    def data_view(self) -> dict[str, JSONValue]:
        """The data as it is stored (a plain dict), without marking it accessed."""
        if not self._converts:
            return dict(dict.items(self))  # dict.copy would go through __getitem__
        return {name: self._stored_value(name) for name in dict.keys(self)}


def _dumps_or_none(value: Any) -> bytes | None:
    try:
        return dumps(value)
    except TypeError:  # no longer JSON: report it as changed so the check names it
        return None
