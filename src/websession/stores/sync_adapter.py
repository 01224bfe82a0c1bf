"""The async face of the embedded stores.

By default each call runs directly on the event loop thread: an SQLite primary-key
read or a dict lookup takes microseconds, less than a hop to a worker thread would.
With ``threaded=True`` (the file store) each call runs in a worker thread instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Generic, ParamSpec, TypeVar

from websession.stores.base import Store
from websession.types import Changes, Record, SessionKey

__all__ = ["AsyncAdapter"]

S = TypeVar("S", bound=Store)
P = ParamSpec("P")
T = TypeVar("T")


class AsyncAdapter(Generic[S]):
    """An ``AsyncStore`` over a sync ``Store``; both see the same records."""

    def __init__(self, store: S, *, threaded: bool = False) -> None:
        self.sync = store
        """The wrapped sync store."""
        self.threaded = threaded
        """True if calls run in a worker thread rather than on the loop thread."""

    async def _run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        if self.threaded:
            return await asyncio.to_thread(fn, *args, **kwargs)
        return fn(*args, **kwargs)

    async def load(self, key: SessionKey) -> Record | None:
        """See ``Store.load``."""
        return await self._run(self.sync.load, key)

    async def create(self, key: SessionKey, record: Record) -> bool:
        """See ``Store.create``."""
        return await self._run(self.sync.create, key, record)

    async def update(self, key: SessionKey, changes: Changes) -> bool:
        """See ``Store.update``."""
        return await self._run(self.sync.update, key, changes)

    async def touch(self, key: SessionKey, last_seen: float, expires_at: float) -> bool:
        """See ``Store.touch``."""
        return await self._run(self.sync.touch, key, last_seen, expires_at)

    async def replace(self, old_key: SessionKey, key: SessionKey, record: Record) -> bool:
        """See ``Store.replace``."""
        return await self._run(self.sync.replace, old_key, key, record)

    async def delete(self, key: SessionKey) -> None:
        """See ``Store.delete``."""
        await self._run(self.sync.delete, key)

    async def list_user(self, user_id: str, now: float) -> list[tuple[SessionKey, Record]]:
        """See ``Store.list_user``."""
        return await self._run(self.sync.list_user, user_id, now)

    async def delete_user(self, user_id: str, *, keep: SessionKey | None = None) -> int:
        """See ``Store.delete_user``."""
        return await self._run(self.sync.delete_user, user_id, keep=keep)

    async def purge_expired(self, now: float, *, limit: int = 1000) -> int:
        """See ``Store.purge_expired``."""
        return await self._run(self.sync.purge_expired, now, limit=limit)

    async def close(self) -> None:
        """See ``Store.close``."""
        await self._run(self.sync.close)
