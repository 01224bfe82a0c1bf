"""The lifespan purge task: bounded batches until nothing expired is left, and nothing
to do for a store that expires records by itself."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import cast

from websession.stores import open_async_store
from websession.stores.base import AsyncPurging, AsyncStore
from websession.stores.purge_task import purge_forever, purge_round
from websession.testing import make_record, new_key


async def test_a_round_purges_in_batches(tmp_path: Path) -> None:
    store = open_async_store(f"sqlite:///{tmp_path / 's.db'}")
    assert isinstance(store, AsyncPurging)
    live = new_key()
    await store.create(live, make_record({}))
    for _ in range(25):
        await store.create(new_key(), make_record({}, now=time.time() - 48 * 3600))
    assert await purge_round(store, batch=10, pause=0) == 25
    assert await store.load(live) is not None
    await store.close()


async def test_the_task_keeps_purging_until_cancelled(tmp_path: Path) -> None:
    store = open_async_store(f"sqlite:///{tmp_path / 's.db'}")
    task = asyncio.create_task(purge_forever(store, every=0.01, batch=5, pause=0))
    old = new_key()
    await store.create(old, make_record({}, now=time.time() - 48 * 3600))
    for _ in range(500):
        if await store.load(old) is None:
            break
        await asyncio.sleep(0.01)
    assert await store.load(old) is None
    task.cancel()
    await store.close()


async def test_a_store_without_purging_ends_the_task_at_once() -> None:
    class Plain:
        """Only the core (no purging ability)."""

    store = cast(AsyncStore, Plain())  # the task only checks its abilities
    await asyncio.wait_for(purge_forever(store), timeout=5)
