# Generated from ../_async/contract.py by scripts/generate_sync.py: do not edit.
"""The store contract: the core operations and the optional abilities.

Read ``websession.stores.base`` first: it states the rules every method follows.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from websession.types import Changes, Record, SessionKey

__all__ = ["Iterating", "Purging", "Schema", "Store", "UserIndex"]


@runtime_checkable
class Store(Protocol):
    """The core of every store: seven operations, each one atomic step."""

    def load(self, key: SessionKey) -> Record | None:
        """Return the record, or None if there is none. Creates nothing.

        May return a record past its deadline or marked revoked: the engine decides."""
        ...

    def create(self, key: SessionKey, record: Record) -> bool:
        """Store a new record; return False (and change nothing) if ``key`` exists."""
        ...

    def update(self, key: SessionKey, changes: Changes) -> bool:
        """Patch the record: set ``changes.set``, drop ``changes.remove``, move the
        deadline, bind the user if ``changes.set_user``. Keys not named are kept, so
        concurrent patches of different keys both survive. Return False if the record
        is gone; it is never recreated."""
        ...

    def touch(self, key: SessionKey, last_seen: float, expires_at: float) -> bool:
        """Move the record's deadline; return False if it is gone (never recreated)."""
        ...

    def replace(self, old_key: SessionKey, key: SessionKey, record: Record) -> bool:
        """Regenerate, as one atomic step: if ``old_key`` holds a record that is live at
        ``record.last_seen`` (before both deadlines, no ``REVOKED_KEY`` in its data),
        delete it and create ``key`` with ``record``, and return True. Otherwise change
        nothing and return False, so nothing a logout, a revoke or a concurrent
        regenerate ended ever comes back."""
        ...

    def delete(self, key: SessionKey) -> None:
        """Delete the record; no-op if absent."""
        ...

    def close(self) -> None:
        """Release connections and files. Idempotent."""
        ...


@runtime_checkable
class UserIndex(Protocol):
    """Ability: a per-user index of sessions (``Record.user_id``), in time proportional
    to that user's sessions. Needed by the auth layer and ``websession revoke``."""

    def list_user(self, user_id: str, now: float) -> list[tuple[SessionKey, Record]]:
        """Return the sessions of ``user_id`` whose idle deadline is after ``now``, oldest
        first (revoked ones included: the caller filters)."""
        ...

    def delete_user(self, user_id: str, *, keep: SessionKey | None = None) -> int:
        """Delete every session of ``user_id`` except ``keep``; return how many."""
        ...


@runtime_checkable
class Purging(Protocol):
    """Ability: delete expired records in bounded batches (stores whose server does not
    expire records by itself)."""

    def purge_expired(self, now: float, *, limit: int = 1000) -> int:
        """Delete up to ``limit`` records whose idle or absolute deadline is at or before
        ``now``; return how many (0 when none are left)."""
        ...


@runtime_checkable
class Iterating(Protocol):
    """Ability: read every record, page by page (migration, operator tools)."""

    def scan(
        self, cursor: str | None, limit: int
    ) -> tuple[list[tuple[SessionKey, Record]], str | None]:
        """Return about ``limit`` records from ``cursor`` (None: the start) and the cursor
        of the next page, None when the scan is complete. Expired and non-session records
        are included. A record created or deleted during the scan may or may not be
        seen, and one may be returned twice (Redis SCAN): callers must be idempotent.
        Cursors are opaque strings that stay valid across processes (a resumed
        migration passes the last one back)."""
        ...


@runtime_checkable
class Schema(Protocol):
    """Ability: create the store's tables or files ahead of time (``websession setup``)."""

    def setup(self) -> None:
        """Create what the store needs if it is missing; safe to call again."""
        ...
