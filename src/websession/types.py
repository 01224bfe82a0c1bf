"""Value types shared by the engine and the stores."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, NewType

__all__ = ["Changes", "Clock", "JSONValue", "Record", "SessionKey", "patch_data"]

SessionKey = NewType("SessionKey", str)
"""Hex SHA-256 of a session token: what stores key records by, never the token."""

JSONValue = Any
"""A value that round-trips through JSON (dict, list, str, int, float, bool, None)."""


@dataclass(slots=True)
class Record:
    """What a store keeps for one session. Times are Unix seconds."""

    data: dict[str, JSONValue]
    created_at: float
    last_seen: float
    expires_at: float
    """Idle deadline, never later than ``absolute_expires_at``."""
    absolute_expires_at: float
    user_id: str | None = None

    def copy(self) -> Record:
        """Return a copy whose ``data`` dict is independent (values are shared)."""
        return Record(
            dict(self.data),
            self.created_at,
            self.last_seen,
            self.expires_at,
            self.absolute_expires_at,
            self.user_id,
        )


@dataclass(frozen=True, slots=True)
class Changes:
    """A patch for one record: keys set, keys removed and the new deadline.

    Keys not named here are left as they are in the store, so two requests that
    change different keys of one session both survive.
    """

    last_seen: float
    expires_at: float
    set: Mapping[str, JSONValue] = field(default_factory=dict)
    remove: frozenset[str] = frozenset()
    set_user: bool = False
    """When true, ``user_id`` replaces the record's user (and its user index entry)."""
    user_id: str | None = None

    def apply(self, record: Record) -> None:
        """Apply this patch to ``record`` in place (for stores that patch in Python)."""
        patch_data(record.data, self.set, self.remove)
        record.last_seen = self.last_seen
        record.expires_at = self.expires_at
        if self.set_user:
            record.user_id = self.user_id


def patch_data(
    data: dict[str, JSONValue], changed: Mapping[str, JSONValue], removed: Iterable[str]
) -> None:
    """Set the ``changed`` keys of ``data`` and drop the ``removed`` ones, in place: the
    one merge every store that patches in Python uses."""
    data.update(changed)
    for name in removed:
        data.pop(name, None)


Clock = Callable[[], float]
"""Something that tells the time in Unix seconds; ``time.time`` by default."""
