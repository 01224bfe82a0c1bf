"""The store contract, sync and async.

A store persists records by ``SessionKey`` (the hash of a token, never the token).
Not found is not an error: ``load`` returns None, ``update``/``touch`` return False,
``delete`` does nothing. Errors are for system failures only, and are always
``StoreError`` subclasses chained from the driver's own exception.

Every method is one atomic step (one round trip on network stores):

* ``create`` never overwrites an existing record;
* ``update`` applies a patch of changed keys, so concurrent requests changing
  different keys both survive, and never resurrects a deleted record;
* ``replace`` creates a new record and deletes the old one together (regenerate);
* ``list_user``/``delete_user`` use a per-user index, in time proportional to that
  user's sessions.

A store may return a record whose deadline has passed; the engine never serves it.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from websession.types import Changes, Record, SessionKey

__all__ = ["AsyncStore", "Store"]


@runtime_checkable
class Store(Protocol):
    """A synchronous session store (used by WSGI integrations and tools)."""

    def load(self, key: SessionKey) -> Record | None:
        """Return the record, or None if there is none. Creates nothing."""
        ...

    def create(self, key: SessionKey, record: Record) -> bool:
        """Store a new record; return False (and change nothing) if ``key`` exists."""
        ...

    def update(self, key: SessionKey, changes: Changes) -> bool:
        """Patch the record; return False if it is gone (it is not recreated)."""
        ...

    def touch(self, key: SessionKey, last_seen: float, expires_at: float) -> bool:
        """Move the record's deadline; return False if it is gone."""
        ...

    def replace(self, old_key: SessionKey, key: SessionKey, record: Record) -> None:
        """Create ``key`` with ``record`` and delete ``old_key``, as one step."""
        ...

    def delete(self, key: SessionKey) -> None:
        """Delete the record; no-op if absent."""
        ...

    def list_user(self, user_id: str, now: float) -> list[tuple[SessionKey, Record]]:
        """Return the sessions of ``user_id`` whose deadline is after ``now``, oldest first."""
        ...

    def delete_user(self, user_id: str, *, keep: SessionKey | None = None) -> int:
        """Delete every session of ``user_id`` except ``keep``; return how many."""
        ...

    def purge_expired(self, now: float, *, limit: int = 1000) -> int:
        """Delete up to ``limit`` records whose deadline is before ``now``; return how many."""
        ...

    def close(self) -> None:
        """Release connections and files."""
        ...


@runtime_checkable
class AsyncStore(Protocol):
    """The asynchronous twin of ``Store`` (used by the ASGI middleware)."""

    async def load(self, key: SessionKey) -> Record | None:
        """Return the record, or None if there is none. Creates nothing."""
        ...

    async def create(self, key: SessionKey, record: Record) -> bool:
        """Store a new record; return False (and change nothing) if ``key`` exists."""
        ...

    async def update(self, key: SessionKey, changes: Changes) -> bool:
        """Patch the record; return False if it is gone (it is not recreated)."""
        ...

    async def touch(self, key: SessionKey, last_seen: float, expires_at: float) -> bool:
        """Move the record's deadline; return False if it is gone."""
        ...

    async def replace(self, old_key: SessionKey, key: SessionKey, record: Record) -> None:
        """Create ``key`` with ``record`` and delete ``old_key``, as one step."""
        ...

    async def delete(self, key: SessionKey) -> None:
        """Delete the record; no-op if absent."""
        ...

    async def list_user(self, user_id: str, now: float) -> list[tuple[SessionKey, Record]]:
        """Return the sessions of ``user_id`` whose deadline is after ``now``, oldest first."""
        ...

    async def delete_user(self, user_id: str, *, keep: SessionKey | None = None) -> int:
        """Delete every session of ``user_id`` except ``keep``; return how many."""
        ...

    async def purge_expired(self, now: float, *, limit: int = 1000) -> int:
        """Delete up to ``limit`` records whose deadline is before ``now``; return how many."""
        ...

    async def close(self) -> None:
        """Release connections and files."""
        ...
