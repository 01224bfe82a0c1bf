"""A background purge for an ASGI app's lifespan (stores that keep expired records).

SQLite, file and PostgreSQL keep expired records until purged (the engine never serves
them). Rather than ``websession purge`` from cron, an app can run ``purge_forever`` in
its lifespan::

    @asynccontextmanager
    async def lifespan(app):
        task = asyncio.create_task(purge_forever(store, every=3600))
        yield
        task.cancel()

Each round deletes in bounded batches (``batch`` records, one short statement each)
with a ``pause`` between batches, so it never holds a lock long enough to stall
requests. A store that expires records by itself (Redis) has no ``AsyncPurging``
ability: the task returns at once. A store error is logged and retried next round.
"""

from __future__ import annotations

import asyncio
import logging
import time

from websession.errors import StoreError
from websession.stores.base import AsyncPurging, AsyncStore
from websession.types import Clock

__all__ = ["purge_forever", "purge_round"]

logger = logging.getLogger("websession.purge")


async def purge_round(
    store: AsyncPurging, *, batch: int = 1000, pause: float = 0.05, clock: Clock = time.time
) -> int:
    """Delete every record expired by now, ``batch`` at a time; return how many."""
    total = 0
    while True:
        removed = await store.purge_expired(clock(), limit=batch)
        total += removed
        if removed < batch:
            return total
        await asyncio.sleep(pause)


async def purge_forever(
    store: AsyncStore,
    *,
    every: float = 3600.0,
    batch: int = 1000,
    pause: float = 0.05,
    clock: Clock = time.time,
) -> None:
    """Run ``purge_round`` every ``every`` seconds until cancelled (at once: nothing to
    do for a store without the purging ability)."""
    if not isinstance(store, AsyncPurging):
        return
    while True:
        try:
            removed = await purge_round(store, batch=batch, pause=pause, clock=clock)
        except StoreError:
            logger.exception("websession: purging expired records failed; retrying later")
        else:
            if removed:
                logger.info("websession: purged %d expired records", removed)
        await asyncio.sleep(every)
