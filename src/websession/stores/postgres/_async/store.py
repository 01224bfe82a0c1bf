"""The PostgreSQL session store (the async source; ``_sync/store.py`` is generated).

Every operation is one statement (``websession.stores.postgres.sql``) on a borrowed
connection (``AsyncDatabase``). Abilities: ``UserIndex``, ``Purging``, ``Iterating``
(keyset pages in key order; the cursor is the last key) and ``Schema``.
"""

from __future__ import annotations

from websession.stores.codec import log_corrupt
from websession.stores.postgres._async.database import AsyncDatabase
from websession.stores.postgres.sql import (
    Statements,
    insert_params,
    record,
    records,
    replace_params,
    update_params,
)
from websession.stores.url import PostgresOptions
from websession.types import Changes, Record, SessionKey

__all__ = ["AsyncPostgresStore"]


class AsyncPostgresStore:
    """Sessions in a PostgreSQL table, through a pool of connections."""

    def __init__(self, options: PostgresOptions) -> None:
        self.options = options
        self._sql = Statements(options.table)
        self._db = AsyncDatabase(
            options,
            schema=self._sql.schema,
            lock_key=self._sql.lock_key,
            what="session store",
        )

    def __repr__(self) -> str:
        name = type(self).__name__
        return f"{name}(host={self.options.host!r}, table={self.options.table!r})"

    async def load(self, key: SessionKey) -> Record | None:
        """See ``Store.load``: one primary-key SELECT."""
        row = await self._db.fetchone(self._sql.load, (key,))
        if row is None:
            return None
        found = record(row)
        if found is None:  # corrupt: logged once, removed, no session
            await self._db.rowcount(self._sql.delete, (key,))
            log_corrupt("PostgreSQL", key)
        return found

    async def create(self, key: SessionKey, record: Record) -> bool:
        """See ``Store.create``: one INSERT that never overwrites."""
        return await self._db.rowcount(self._sql.create, insert_params(key, record)) == 1

    async def update(self, key: SessionKey, changes: Changes) -> bool:
        """See ``Store.update``: one UPDATE merging the changed keys on the server."""
        return await self._db.rowcount(self._sql.update, update_params(key, changes)) == 1

    async def touch(self, key: SessionKey, last_seen: float, expires_at: float) -> bool:
        """See ``Store.touch``: one UPDATE of the deadline."""
        return await self._db.rowcount(self._sql.touch, (last_seen, expires_at, key)) == 1

    async def replace(self, old_key: SessionKey, key: SessionKey, record: Record) -> bool:
        """See ``Store.replace``: one statement deleting the old row while it is live
        and inserting the new one only then."""
        params = replace_params(old_key, key, record)
        return await self._db.rowcount(self._sql.replace, params) == 1

    async def delete(self, key: SessionKey) -> None:
        """See ``Store.delete``."""
        await self._db.rowcount(self._sql.delete, (key,))

    async def list_user(self, user_id: str, now: float) -> list[tuple[SessionKey, Record]]:
        """See ``UserIndex.list_user``: one SELECT through the user index."""
        rows = await self._db.fetchall(self._sql.list_user, (user_id, now))
        return records(rows)

    async def delete_user(self, user_id: str, *, keep: SessionKey | None = None) -> int:
        """See ``UserIndex.delete_user``: one DELETE through the user index."""
        return await self._db.rowcount(self._sql.delete_user, (user_id, keep))

    async def purge_expired(self, now: float, *, limit: int = 1000) -> int:
        """See ``Purging.purge_expired``: one bounded DELETE (``FOR UPDATE SKIP
        LOCKED``, so several purgers do not wait on each other)."""
        return await self._db.rowcount(self._sql.purge, (now, limit))

    async def scan(
        self, cursor: str | None, limit: int
    ) -> tuple[list[tuple[SessionKey, Record]], str | None]:
        """See ``Iterating.scan``: one keyset SELECT in key order after ``cursor``."""
        rows = await self._db.fetchall(self._sql.scan, (cursor or "", limit))
        page = records(rows)
        last = SessionKey(rows[-1][0]) if len(rows) == limit and rows else None
        return page, last

    async def setup(self) -> None:
        """See ``Schema.setup``: the table and its indexes, if missing."""
        await self._db.setup()

    async def close(self) -> None:
        """Close the pool and its connections."""
        await self._db.close()
