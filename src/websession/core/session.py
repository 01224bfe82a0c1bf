"""The session object handed to applications: a mutable mapping that tracks changes.

``Session`` is what ``request.session`` is. It records which top-level keys were set
or removed, and snapshots container values when they are read, so that in-place
mutation (``session["cart"].append(x)``) is caught at the end of the request too.
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from datetime import UTC, datetime
from typing import Any

from websession.core.jsondata import RESERVED_PREFIX, check_key, check_value, dumps
from websession.core.lifecycle import REVOKED_KEY
from websession.types import JSONValue, Record, SessionKey

__all__ = ["CSRF_KEY", "DEVICE_KEY", "FLASH_KEY", "REVOKED_KEY", "Session"]

FLASH_KEY = "_flashes"
"""Where flash messages live, as ``[category, message]`` pairs (Flask's own key)."""
CSRF_KEY = RESERVED_PREFIX + "csrf"
"""The session's CSRF secret; dropped when the session is regenerated."""
DEVICE_KEY = RESERVED_PREFIX + "device"
"""Device metadata recorded at login (IP address, user agent)."""

_CONTAINERS = (dict, list)


class Session(MutableMapping[str, Any]):
    """Session data plus the operations on the session itself.

    Reading a key marks the session accessed (responses then carry ``Vary: Cookie``);
    setting or deleting a key marks it modified. Values must be JSON.
    """

    __slots__ = (
        "_data",
        "_destroyed",
        "_record",
        "_regenerate",
        "_removed",
        "_set",
        "_snapshots",
        "_user_changed",
        "_user_id",
        "accessed",
        "key",
        "origin",
        "signed",
        "stale_signature",
        "token",
    )

    def __init__(
        self,
        record: Record | None = None,
        *,
        token: str | None = None,
        key: SessionKey | None = None,
        stale_signature: bool = False,
        signed: str | None = None,
        origin: object = None,
    ) -> None:
        self._record = record
        self._data: dict[str, Any] = record.data if record is not None else {}
        self._user_id = record.user_id if record is not None else None
        self.token = token
        """The raw token when the session exists in the store (never log it)."""
        self.key = key
        """The store key (hash of the token) when the session exists in the store."""
        self.stale_signature = stale_signature
        self.origin = origin
        """What the backend opened the session from, beyond the token (the encrypted
        cookie's payload); opaque to applications."""
        self.signed = signed
        """The cookie value as the browser sent it, when still signed by the current secret."""
        self.accessed = False
        self._set: set[str] = set()
        self._removed: set[str] = set()
        self._snapshots: dict[str, bytes] = {}
        self._regenerate = False
        self._destroyed = False
        self._user_changed = False

    # -- mapping -----------------------------------------------------------------

    def __getitem__(self, name: str) -> Any:
        value = self._data[name]
        self.accessed = True
        if type(value) in _CONTAINERS and name not in self._snapshots and name not in self._set:
            self._snapshots[name] = dumps(value)
        return value

    def __setitem__(self, name: str, value: Any) -> None:
        self._put(check_key(name), value)

    def __delitem__(self, name: str) -> None:
        del self._data[name]
        self.accessed = True
        self._set.discard(name)
        self._snapshots.pop(name, None)
        self._removed.add(name)

    def __iter__(self) -> Iterator[str]:
        self.accessed = True
        return iter(self._data)

    def __len__(self) -> int:
        self.accessed = True
        return len(self._data)

    def __contains__(self, name: object) -> bool:
        self.accessed = True
        return name in self._data

    def __repr__(self) -> str:
        return f"<Session keys={sorted(self._data)!r} new={self.is_new}>"

    def clear(self) -> None:
        """Remove every key."""
        self.accessed = True
        self._removed.update(self._data)
        self._data.clear()
        self._set.clear()
        self._snapshots.clear()

    def _put(self, name: str, value: JSONValue) -> None:
        check_value(name, value)
        if type(value) is tuple:
            value = list(value)
        self._data[name] = value
        self._set.add(name)
        self._removed.discard(name)
        self._snapshots.pop(name, None)

    # -- websession's own keys ------------------------------------------------------

    def get_internal(self, name: str) -> Any:
        """Return websession's own value ``name`` (a reserved key), or None."""
        return self._data.get(_reserved(name))

    def set_internal(self, name: str, value: Any) -> None:
        """Set websession's own value ``name`` (a reserved key); tracked like any change."""
        self._put(_reserved(name), value)

    def pop_internal(self, name: str) -> Any:
        """Remove and return websession's own value ``name`` (a reserved key), or None."""
        name = _reserved(name)
        if name not in self._data:
            return None
        value = self._data[name]
        del self[name]
        return value

    # -- session operations ------------------------------------------------------

    def regenerate(self) -> None:
        """Give the session a new token at the end of this request, keeping its data.

        Call it on login and on any privilege change; the old token stops working at
        once (session fixation defence). The CSRF secret is dropped at once, so a
        token asked for after this call belongs to the new session.
        """
        self._regenerate = True
        if CSRF_KEY in self._data:
            del self[CSRF_KEY]

    def destroy(self) -> None:
        """Delete the session server-side and expire the cookie.

        Data set after this call goes into a brand-new session with a new token.
        """
        self._destroyed = True
        self.clear()
        self._set.clear()
        self._removed.clear()
        self._user_id = None
        self._user_changed = False

    @property
    def user_id(self) -> str | None:
        """The user this session belongs to (feeds the per-user index)."""
        return self._user_id

    @user_id.setter
    def user_id(self, value: str | None) -> None:
        if value is not None and (type(value) is not str or not value):
            raise TypeError("user_id must be a non-empty str or None")
        if value != self._user_id:
            self._user_id = value
            self._user_changed = True

    def flash(self, message: str, category: str = "message") -> None:
        """Queue a message for the next request that reads flashes."""
        check_value(FLASH_KEY, message)
        queued = list(self._data.get(FLASH_KEY, ()))
        queued.append([category, message])
        self._put(FLASH_KEY, queued)

    def pop_flashes(self, category: str | None = None) -> list[tuple[str, str]]:
        """Return queued flash messages as ``(category, message)`` and forget them.

        With ``category``, only those messages are returned and removed.
        """
        queued = self._data.get(FLASH_KEY)
        if not queued:
            return []
        pairs = [(str(c), str(m)) for c, m in queued]
        if category is None:
            del self[FLASH_KEY]
            return pairs
        keep = [[c, m] for c, m in pairs if c != category]
        if keep:
            self._put(FLASH_KEY, keep)
        else:
            del self[FLASH_KEY]
        return [(c, m) for c, m in pairs if c == category]

    # -- state ---------------------------------------------------------------------

    @property
    def is_new(self) -> bool:
        """True until the session exists in the store (or after ``destroy()``)."""
        return self._record is None or self._destroyed

    @property
    def record(self) -> Record | None:
        """The record loaded from the store, if any (its data is this session's data)."""
        return self._record

    @property
    def created_at(self) -> datetime | None:
        """When the stored session was created (None while new)."""
        record = self._stored()
        return None if record is None else _dt(record.created_at)

    @property
    def last_seen(self) -> datetime | None:
        """When the stored session was last written or refreshed (None while new)."""
        record = self._stored()
        return None if record is None else _dt(record.last_seen)

    @property
    def expires_at(self) -> datetime | None:
        """The stored idle deadline (None while new)."""
        record = self._stored()
        return None if record is None else _dt(record.expires_at)

    def _stored(self) -> Record | None:
        return None if self._destroyed else self._record

    @property
    def regenerating(self) -> bool:
        """True if ``regenerate()`` was called in this request."""
        return self._regenerate

    @property
    def destroyed(self) -> bool:
        """True if ``destroy()`` was called in this request."""
        return self._destroyed

    @property
    def modified(self) -> bool:
        """True if data or the user binding changed in this request."""
        return bool(self._set or self._removed or self._user_changed or self._mutated())

    @modified.setter
    def modified(self, value: bool) -> None:
        """Setting True (Flask's idiom) writes every key back at the end of the request."""
        if value:
            self._set.update(self._data)

    def _mutated(self) -> list[str]:
        data = self._data
        return [
            name
            for name, before in self._snapshots.items()
            if name in data and _dumps_or_none(data[name]) != before
        ]

    def pending_changes(self) -> tuple[dict[str, JSONValue], frozenset[str], bool]:
        """Return the keys set (with values), the keys removed, and whether the user
        binding changed; values mutated in place are checked for JSON here."""
        names = set(self._set)
        for name in self._mutated():
            check_value(name, self._data[name])
            names.add(name)
        data = self._data
        return {n: data[n] for n in names}, frozenset(self._removed), self._user_changed

    def data_view(self) -> dict[str, JSONValue]:
        """The underlying data dict, without marking the session accessed."""
        return self._data


def _reserved(name: str) -> str:
    if not name.startswith(RESERVED_PREFIX):
        raise ValueError(f"internal session keys start with {RESERVED_PREFIX!r}, not {name!r}")
    return name


def _dumps_or_none(value: Any) -> bytes | None:
    try:
        return dumps(value)
    except TypeError:  # no longer JSON: report it as changed so the check names it
        return None


def _dt(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)
