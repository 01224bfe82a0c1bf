"""The dual store's operations (``websession.stores.dual`` describes the rules)."""

from __future__ import annotations

from websession.stores.base import (
    AsyncIterating,
    AsyncPurging,
    AsyncSchema,
    AsyncStore,
    AsyncUserIndex,
)
from websession.types import Changes, Record, SessionKey

__all__ = ["AsyncDualStore"]


class AsyncDualStore:
    """Reads ``new`` then ``old``, writes ``new``, deletes from both.

    Claims every ability; an ability one inner store lacks is skipped for that store
    (``purge_expired`` purges the stores that can, ``setup`` sets up the ones that can).
    """

    def __init__(self, new: AsyncStore, old: AsyncStore) -> None:
        self.new = new
        """The store the app is moving to: every write lands here."""
        self.old = old
        """The store the app is moving from: read on a miss, deleted from, never written."""

    def __repr__(self) -> str:
        return f"<AsyncDualStore new={self.new!r} old={self.old!r}>"

    async def _copy(self, key: SessionKey) -> Record | None:
        """Copy ``key`` from the old store into the new one (never overwriting); return
        the record the new store now holds, or None if neither has it."""
        record = await self.old.load(key)
        if record is None:
            return None
        if await self.new.create(key, record):
            return record
        return await self.new.load(key)

    async def load(self, key: SessionKey) -> Record | None:
        """The new store's record, else the old store's (copied into the new one)."""
        record = await self.new.load(key)
        if record is not None:
            return record
        return await self._copy(key)

    async def create(self, key: SessionKey, record: Record) -> bool:
        """Create in the new store; False if either store has ``key`` (an old record is
        copied over, not overwritten)."""
        if await self._copy(key) is not None:
            return False
        return await self.new.create(key, record)

    async def update(self, key: SessionKey, changes: Changes) -> bool:
        """Patch in the new store, copying the record from the old one first if needed."""
        if await self.new.update(key, changes):
            return True
        return await self._copy(key) is not None and await self.new.update(key, changes)

    async def touch(self, key: SessionKey, last_seen: float, expires_at: float) -> bool:
        """Move the deadline in the new store, copying the record over first if needed."""
        if await self.new.touch(key, last_seen, expires_at):
            return True
        return await self._copy(key) is not None and await self.new.touch(
            key, last_seen, expires_at
        )

    async def replace(self, old_key: SessionKey, key: SessionKey, record: Record) -> bool:
        """Copy ``old_key`` over, delete it from the old store, then replace in the new
        one: the ended key can never be read back from the old store."""
        await self._copy(old_key)
        await self.old.delete(old_key)
        return await self.new.replace(old_key, key, record)

    async def delete(self, key: SessionKey) -> None:
        """Delete from the old store, then from the new one."""
        await self.old.delete(key)
        await self.new.delete(key)

    async def list_user(self, user_id: str, now: float) -> list[tuple[SessionKey, Record]]:
        """Both stores' sessions of the user (the new store's copy wins), oldest first."""
        found: dict[SessionKey, Record] = {}
        for store in (self.old, self.new):
            if isinstance(store, AsyncUserIndex):
                found.update(await store.list_user(user_id, now))
        return sorted(found.items(), key=lambda item: item[1].created_at)

    async def delete_user(self, user_id: str, *, keep: SessionKey | None = None) -> int:
        """Delete the user's sessions from both stores; a session present in both
        counts twice."""
        total = 0
        for store in (self.old, self.new):
            if isinstance(store, AsyncUserIndex):
                total += await store.delete_user(user_id, keep=keep)
        return total

    async def purge_expired(self, now: float, *, limit: int = 1000) -> int:
        """Purge the new store, then the old one, up to ``limit`` records in all."""
        total = 0
        for store in (self.new, self.old):
            if isinstance(store, AsyncPurging) and total < limit:
                total += await store.purge_expired(now, limit=limit - total)
        return total

    async def scan(
        self, cursor: str | None, limit: int
    ) -> tuple[list[tuple[SessionKey, Record]], str | None]:
        """The new store's records, then the old store's (a record in both is returned
        twice). Cursors are ``n<inner cursor>`` and ``o<inner cursor>``."""
        side, inner = ("n", None) if cursor is None else (cursor[:1], cursor[1:] or None)
        store = self.new if side == "n" else self.old
        if not isinstance(store, AsyncIterating):
            page: list[tuple[SessionKey, Record]] = []
            after = None
        else:
            page, after = await store.scan(inner, limit)
        if after is not None:
            return page, side + after
        return page, ("o" if side == "n" else None)

    async def setup(self) -> None:
        """Set up both stores where they can be."""
        for store in (self.new, self.old):
            if isinstance(store, AsyncSchema):
                await store.setup()

    async def close(self) -> None:
        """Close both stores."""
        try:
            await self.new.close()
        finally:
            await self.old.close()
