"""In-process memory store: thread-safe, data kept as compact JSON bytes.

Each record's data is one exact-size ``bytes`` of JSON plus five fields, about 360
bytes per small session with its key (a million take about 350 MiB).

For tests, development and single-process apps. Records vanish with the process.
Records are kept in the order of their last write, which is (nearly) the order of
their deadlines, so expired records are purged from the front a few at a time as new
ones are created, at constant cost per create.
"""

from __future__ import annotations

import heapq
import threading
import time
from typing import Any, NamedTuple

import orjson

from websession.core.lifecycle import Lifecycle
from websession.stores.async_face import Run, async_face
from websession.stores.base import AsyncStore
from websession.types import Changes, Clock, Record, SessionKey, patch_data

__all__ = ["MemoryStore"]

_PURGE_EVERY = 256


class _Entry(NamedTuple):
    data: bytes
    created_at: float
    last_seen: float
    expires_at: float
    absolute_expires_at: float
    user_id: str | None

    def record(self) -> Record:
        return Record(
            orjson.loads(self.data),
            self.created_at,
            self.last_seen,
            self.expires_at,
            self.absolute_expires_at,
            self.user_id,
        )


def _compact(data: dict[str, Any]) -> bytes:
    # orjson's bytes keep the whole (4 KiB) buffer they were written into: keep an
    # exact-size copy, or a million small sessions hold 4 GiB
    return bytes(memoryview(orjson.dumps(data)))


def _entry(record: Record) -> _Entry:
    return _Entry(
        _compact(record.data),
        record.created_at,
        record.last_seen,
        record.expires_at,
        record.absolute_expires_at,
        record.user_id,
    )


def _live(entry: _Entry, now: float) -> bool:
    record = entry.record()
    return Lifecycle.within_deadlines(record, now) and not Lifecycle.is_revoked(record)


class MemoryStore:
    """A dict of records guarded by a lock, with a per-user index.

    Abilities: ``UserIndex``, ``Purging``, ``Iterating``."""

    def __init__(self, *, clock: Clock = time.time) -> None:
        self._entries: dict[SessionKey, _Entry] = {}
        self._users: dict[str, set[SessionKey]] = {}
        self._lock = threading.Lock()
        self._clock = clock
        self._creates = 0

    def __len__(self) -> int:
        return len(self._entries)

    def load(self, key: SessionKey) -> Record | None:
        """Return the record, or None."""
        with self._lock:  # an update re-inserts its key: never read between the two steps
            entry = self._entries.get(key)
        return None if entry is None else entry.record()

    def create(self, key: SessionKey, record: Record) -> bool:
        """Store a new record unless ``key`` exists."""
        entry = _entry(record)
        with self._lock:
            if key in self._entries:
                return False
            self._insert(key, entry)
            self._creates += 1
            if self._creates % _PURGE_EVERY == 0:
                self._purge_oldest(self._clock(), _PURGE_EVERY)
        return True

    def update(self, key: SessionKey, changes: Changes) -> bool:
        """Patch the record in place under the lock; False if it is gone."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return False
            data = orjson.loads(entry.data)  # the data only: no Record on this path
            patch_data(data, changes.set, changes.remove)
            user = changes.user_id if changes.set_user else entry.user_id
            del self._entries[key]  # re-insert at the end: keeps deadline order
            self._entries[key] = _Entry(
                _compact(data),
                entry.created_at,
                changes.last_seen,
                changes.expires_at,
                entry.absolute_expires_at,
                user,
            )
            if user != entry.user_id:
                self._unindex(key, entry.user_id)
                self._index(key, user)
        return True

    def touch(self, key: SessionKey, last_seen: float, expires_at: float) -> bool:
        """Move the deadline; False if the record is gone."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return False
            del self._entries[key]
            self._entries[key] = entry._replace(last_seen=last_seen, expires_at=expires_at)
        return True

    def replace(self, old_key: SessionKey, key: SessionKey, record: Record) -> bool:
        """Under one lock: if ``old_key`` is live at ``record.last_seen``, delete it and
        create ``key``; else change nothing and return False."""
        entry = _entry(record)
        with self._lock:
            old = self._entries.get(old_key)
            if old is None or key in self._entries or not _live(old, record.last_seen):
                return False
            self._remove(old_key)
            self._insert(key, entry)
        return True

    def delete(self, key: SessionKey) -> None:
        """Delete the record if present."""
        with self._lock:
            self._remove(key)

    def list_user(self, user_id: str, now: float) -> list[tuple[SessionKey, Record]]:
        """The user's live sessions, oldest first."""
        with self._lock:
            keys = list(self._users.get(user_id, ()))
            entries = [(k, self._entries[k]) for k in keys if k in self._entries]
        found = [(k, e.record()) for k, e in entries if e.expires_at > now]
        found.sort(key=lambda item: item[1].created_at)
        return found

    def delete_user(self, user_id: str, *, keep: SessionKey | None = None) -> int:
        """Delete the user's sessions except ``keep``."""
        with self._lock:
            keys = [k for k in self._users.get(user_id, ()) if k != keep]
            for k in keys:
                self._remove(k)
        return len(keys)

    def purge_expired(self, now: float, *, limit: int = 1000) -> int:
        """Delete up to ``limit`` expired records."""
        with self._lock:
            return self._purge(now, limit)

    def scan(
        self, cursor: str | None, limit: int
    ) -> tuple[list[tuple[SessionKey, Record]], str | None]:
        """Up to ``limit`` records in key order after ``cursor`` (the last key returned)."""
        with self._lock:
            keys = heapq.nsmallest(
                limit, (k for k in self._entries if cursor is None or k > cursor)
            )
            entries = [(k, self._entries[k]) for k in keys]
        page = [(k, e.record()) for k, e in entries]
        return page, (keys[-1] if len(keys) == limit else None)

    def close(self) -> None:
        """Nothing to release."""

    def _insert(self, key: SessionKey, entry: _Entry) -> None:
        self._entries[key] = entry
        self._index(key, entry.user_id)

    def _remove(self, key: SessionKey) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            self._unindex(key, entry.user_id)

    def _index(self, key: SessionKey, user_id: str | None) -> None:
        if user_id is not None:
            self._users.setdefault(user_id, set()).add(key)

    def _unindex(self, key: SessionKey, user_id: str | None) -> None:
        if user_id is None:
            return
        keys = self._users.get(user_id)
        if keys is not None:
            keys.discard(key)
            if not keys:
                del self._users[user_id]

    def _purge_oldest(self, now: float, limit: int) -> None:
        expired: list[SessionKey] = []
        for key, entry in self._entries.items():
            if entry.expires_at > now or len(expired) >= limit:
                break
            expired.append(key)
        for key in expired:
            self._remove(key)

    def _purge(self, now: float, limit: int) -> int:
        expired = [k for k, e in self._entries.items() if e.expires_at <= now][:limit]
        for key in expired:
            self._remove(key)
        return len(expired)


def open_async_memory() -> AsyncStore:
    """The async face of a new memory store; calls run on the loop thread."""
    return async_face(MemoryStore(), Run.INLINE)
