"""One synchronous face for sync and async stores, so one suite tests both.

A harness holds a fresh store under test as ``harness.store``, typed ``Store``:

* ``SyncHarness(store)``: the sync store itself; concurrent calls run in threads.
* ``AsyncHarness(factory)``: a blocking face of the ``AsyncStore`` that ``factory``
  makes, each call run to completion on the harness's private event loop, so the async
  code path is what is tested; concurrent calls run with ``asyncio.gather`` on it.

The blocking face has exactly the contract methods the async store has (made from the
contract's method names, not listed here), so ``isinstance(harness.store, UserIndex)``
tells whether the store under test claims an ability.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar, cast

from websession.stores.async_face import face_class
from websession.stores.base import AsyncStore, Store
from websession.types import Changes, SessionKey

__all__ = ["AsyncHarness", "StoreHarness", "SyncHarness"]

T = TypeVar("T")


class StoreHarness:
    """A store under test (``store``) and a way to call it concurrently."""

    name = "store"
    store: Store
    """The store under test, sync-shaped whatever its own form."""

    def concurrently(self, method: str, calls: Sequence[tuple[Any, ...]]) -> list[Any]:
        """Call ``store.<method>(*args)`` for every ``args`` at the same time; return
        each result in order."""
        raise NotImplementedError

    def concurrent_updates(self, key: SessionKey, patches: Sequence[Changes]) -> list[bool]:
        """Apply every patch to ``key`` at the same time; return each result."""
        return [bool(done) for done in self.concurrently("update", [(key, c) for c in patches])]

    def close(self) -> None:
        """Close the store."""
        self.store.close()


class SyncHarness(StoreHarness):
    """Drives a sync ``Store``."""

    def __init__(self, store: Store, name: str = "sync") -> None:
        self.store = store
        self.name = name

    def concurrently(self, method: str, calls: Sequence[tuple[Any, ...]]) -> list[Any]:
        """One thread per call, all started together."""
        target = getattr(self.store, method)
        with ThreadPoolExecutor(max_workers=min(32, len(calls))) as pool:
            return list(pool.map(lambda args: target(*args), calls))


class _Blocking:
    """Base of the blocking faces: each method runs the async one on ``runner``."""

    __slots__ = ("runner", "target")

    def __init__(self, target: AsyncStore, runner: asyncio.Runner) -> None:
        self.target = target
        self.runner = runner


def _blocking_method(name: str) -> Callable[..., Any]:
    def call(self: _Blocking, *args: Any, **kwargs: Any) -> Any:
        coroutine: Coroutine[Any, Any, Any] = getattr(self.target, name)(*args, **kwargs)
        return self.runner.run(coroutine)

    return call


_FACES: dict[type, type[_Blocking]] = {}


def _blocking_face(store: AsyncStore, runner: asyncio.Runner) -> Store:
    face = _FACES.get(type(store))
    if face is None:
        face = _FACES[type(store)] = face_class(
            _Blocking, type(store), _blocking_method, "Blocking"
        )
    # Made from the contract's own method names (see websession.stores.async_face).
    return cast(Store, face(store, runner))


class AsyncHarness(StoreHarness):
    """Drives an ``AsyncStore`` made by ``factory`` on a private event loop."""

    def __init__(self, factory: Callable[[], AsyncStore], name: str = "async") -> None:
        self._runner = asyncio.Runner()
        self.name = name

        async def make() -> AsyncStore:
            return factory()

        try:
            self.async_store = self._runner.run(make())
            """The async store under test."""
        except BaseException:
            self._runner.close()
            raise
        self.store = _blocking_face(self.async_store, self._runner)

    def run(self, awaitable: Awaitable[T]) -> T:
        """Run a coroutine on the harness's loop."""

        async def wrap() -> T:
            return await awaitable

        return self._runner.run(wrap())

    def concurrently(self, method: str, calls: Sequence[tuple[Any, ...]]) -> list[Any]:
        """All calls awaited together with ``asyncio.gather``."""
        target = getattr(self.async_store, method)

        async def all_at_once() -> list[Any]:
            return list(await asyncio.gather(*(target(*args) for args in calls)))

        return self.run(all_at_once())

    def close(self) -> None:
        """Close the store and the loop."""
        try:
            super().close()
        finally:
            self._runner.close()
