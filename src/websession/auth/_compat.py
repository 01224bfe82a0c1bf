"""The few primitives whose async and sync spellings differ, as hand-written pairs.

The auth service is written once, as async code in ``_async/``; its sync twin in
``_sync/`` is generated (scripts/generate_sync.py), which maps each async name here
to its sync partner:

* ``AsyncHashing`` -> ``Hashing``: argon2 is CPU-bound and blocking, so the async side
  runs it in a worker pool (the event loop is never blocked); the sync side calls it
  directly.
* ``gather_async`` -> ``gather``: the async side awaits calls concurrently; the sync
  spelling receives results already computed one after another (arguments are
  evaluated in order) and returns them as a list.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from websession.auth.passwords import PasswordHasher

__all__ = ["AsyncHashing", "Hashing", "gather", "gather_async"]

T = TypeVar("T")


async def gather_async(*calls: Awaitable[T]) -> list[T]:
    """Await every call concurrently; return the results in order. If any fails, the
    others still finish before the first error is raised (no write left running)."""
    values: list[T] = []
    for item in await asyncio.gather(*calls, return_exceptions=True):
        if isinstance(item, BaseException):
            raise item
        values.append(item)
    return values


def gather(*results: T) -> list[T]:
    """The sync spelling of ``gather_async``: the calls already ran, in order."""
    return list(results)


class AsyncHashing:
    """The hasher's blocking calls, run in a pool of ``workers`` threads."""

    def __init__(self, hasher: PasswordHasher, workers: int) -> None:
        self.hasher = hasher
        self._workers = workers
        self._executor: ThreadPoolExecutor | None = None

    async def hash(self, password: str) -> str:
        """``PasswordHasher.hash`` off the event loop."""
        return await self._off_loop(self.hasher.hash, password)

    async def verify(self, password_hash: str, password: str) -> bool:
        """``PasswordHasher.verify`` off the event loop."""
        return await self._off_loop(self.hasher.verify, password_hash, password)

    async def verify_dummy(self, password: str) -> bool:
        """``PasswordHasher.verify_dummy`` off the event loop."""
        return await self._off_loop(self.hasher.verify_dummy, password)

    async def close(self) -> None:
        """Stop the worker threads (new ones start if hashing is asked for again)."""
        if self._executor is not None:
            self._executor.shutdown(wait=False)
            self._executor = None

    async def _off_loop(self, function: Callable[..., T], *args: str) -> T:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(
                max_workers=self._workers, thread_name_prefix="websession-hash"
            )
        return await asyncio.get_running_loop().run_in_executor(self._executor, function, *args)


class Hashing:
    """The sync spelling of ``AsyncHashing``: the hasher's calls, made directly."""

    def __init__(self, hasher: PasswordHasher, workers: int) -> None:
        self.hasher = hasher

    def hash(self, password: str) -> str:
        """``PasswordHasher.hash``."""
        return self.hasher.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        """``PasswordHasher.verify``."""
        return self.hasher.verify(password_hash, password)

    def verify_dummy(self, password: str) -> bool:
        """``PasswordHasher.verify_dummy``."""
        return self.hasher.verify_dummy(password)

    def close(self) -> None:
        """Nothing to release."""
