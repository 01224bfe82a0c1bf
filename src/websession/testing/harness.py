"""One synchronous face for sync and async stores, so one suite tests both.

``SyncHarness`` drives a ``Store`` directly and runs concurrent calls in threads.
``AsyncHarness`` drives an ``AsyncStore`` on its own event loop and runs concurrent
calls with ``asyncio.gather`` on that loop: the async code path is what is tested.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from websession.stores.base import AsyncStore, Store
from websession.types import Changes, Record, SessionKey

__all__ = ["AsyncHarness", "StoreHarness", "SyncHarness"]

T = TypeVar("T")


class StoreHarness:
    """The ``Store`` interface plus ``concurrent_updates``; subclasses bind a store."""

    name = "store"

    def load(self, key: SessionKey) -> Record | None:
        """See ``Store.load``."""
        record: Record | None = self._do("load", key)
        return record

    def create(self, key: SessionKey, record: Record) -> bool:
        """See ``Store.create``."""
        return bool(self._do("create", key, record))

    def update(self, key: SessionKey, changes: Changes) -> bool:
        """See ``Store.update``."""
        return bool(self._do("update", key, changes))

    def touch(self, key: SessionKey, last_seen: float, expires_at: float) -> bool:
        """See ``Store.touch``."""
        return bool(self._do("touch", key, last_seen, expires_at))

    def replace(self, old_key: SessionKey, key: SessionKey, record: Record) -> None:
        """See ``Store.replace``."""
        self._do("replace", old_key, key, record)

    def delete(self, key: SessionKey) -> None:
        """See ``Store.delete``."""
        self._do("delete", key)

    def list_user(self, user_id: str, now: float) -> list[tuple[SessionKey, Record]]:
        """See ``Store.list_user``."""
        result: list[tuple[SessionKey, Record]] = self._do("list_user", user_id, now)
        return result

    def delete_user(self, user_id: str, *, keep: SessionKey | None = None) -> int:
        """See ``Store.delete_user``."""
        return int(self._do("delete_user", user_id, keep=keep))

    def purge_expired(self, now: float, *, limit: int = 1000) -> int:
        """See ``Store.purge_expired``."""
        return int(self._do("purge_expired", now, limit=limit))

    def close(self) -> None:
        """Close the store."""
        self._do("close")

    def concurrent_updates(self, key: SessionKey, patches: Sequence[Changes]) -> list[bool]:
        """Apply every patch to ``key`` at the same time; return each result."""
        raise NotImplementedError

    def _do(self, method: str, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError


class SyncHarness(StoreHarness):
    """Drives a sync ``Store``."""

    def __init__(self, store: Store, name: str = "sync") -> None:
        self.store = store
        self.name = name

    def _do(self, method: str, *args: Any, **kwargs: Any) -> Any:
        return getattr(self.store, method)(*args, **kwargs)

    def concurrent_updates(self, key: SessionKey, patches: Sequence[Changes]) -> list[bool]:
        """One thread per patch, all started together."""
        with ThreadPoolExecutor(max_workers=min(32, len(patches))) as pool:
            return list(pool.map(lambda c: self.store.update(key, c), patches))


class AsyncHarness(StoreHarness):
    """Drives an ``AsyncStore`` made by ``factory`` on a private event loop."""

    def __init__(self, factory: Callable[[], AsyncStore], name: str = "async") -> None:
        self._runner = asyncio.Runner()
        self.name = name

        async def make() -> AsyncStore:
            return factory()

        try:
            self.store = self._runner.run(make())
        except BaseException:
            self._runner.close()
            raise

    def run(self, awaitable: Awaitable[T]) -> T:
        """Run a coroutine on the harness's loop."""

        async def wrap() -> T:
            return await awaitable

        return self._runner.run(wrap())

    def _do(self, method: str, *args: Any, **kwargs: Any) -> Any:
        return self.run(getattr(self.store, method)(*args, **kwargs))

    def concurrent_updates(self, key: SessionKey, patches: Sequence[Changes]) -> list[bool]:
        """All patches awaited together with ``asyncio.gather``."""

        async def all_at_once() -> list[bool]:
            return list(await asyncio.gather(*(self.store.update(key, c) for c in patches)))

        return self.run(all_at_once())

    def close(self) -> None:
        """Close the store and the loop."""
        try:
            super().close()
        finally:
            self._runner.close()
