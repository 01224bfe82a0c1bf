# Generated from ../_async/store.py by scripts/generate_sync.py: do not edit.
"""The PostgreSQL session store (the async source; ``_sync/store.py`` is generated).

Every operation is one statement (``websession.stores.postgres.sql``) on a borrowed
connection (``AsyncDatabase``). Abilities: ``UserIndex``, ``Purging``, ``Iterating``
(keyset pages in key order; the cursor is the last key) and ``Schema``.
"""

from __future__ import annotations

from websession.stores.codec import log_corrupt
from websession.stores.postgres._sync.database import Database
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

__all__ = ["PostgresStore"]


class PostgresStore:
    """Sessions in a PostgreSQL table, through a pool of connections."""

    def __init__(self, options: PostgresOptions) -> None:
        self.options = options
        self._sql = Statements(options.table)
        self._db = Database(
            options,
            schema=self._sql.schema,
            lock_key=self._sql.lock_key,
            what="session store",
        )

    def __repr__(self) -> str:
        name = type(self).__name__
        return f"{name}(host={self.options.host!r}, table={self.options.table!r})"

    def load(self, key: SessionKey) -> Record | None:
        """See ``Store.load``: one primary-key SELECT."""
        row = self._db.fetchone(self._sql.load, (key,))
        if row is None:
            return None
        found = record(row)
        if found is None:  # corrupt: logged once, removed, no session
            self._db.rowcount(self._sql.delete, (key,))
            log_corrupt("PostgreSQL", key)
        return found

    def create(self, key: SessionKey, record: Record) -> bool:
        """See ``Store.create``: one INSERT that never overwrites."""
        return self._db.rowcount(self._sql.create, insert_params(key, record)) == 1

    def update(self, key: SessionKey, changes: Changes) -> bool:
        """See ``Store.update``: one UPDATE merging the changed keys on the server."""
        return self._db.rowcount(self._sql.update, update_params(key, changes)) == 1

    def touch(self, key: SessionKey, last_seen: float, expires_at: float) -> bool:
        """See ``Store.touch``: one UPDATE of the deadline."""
        return self._db.rowcount(self._sql.touch, (last_seen, expires_at, key)) == 1

    def replace(self, old_key: SessionKey, key: SessionKey, record: Record) -> bool:
        """See ``Store.replace``: one statement deleting the old row while it is live
        and inserting the new one only then."""
        params = replace_params(old_key, key, record)
        return self._db.rowcount(self._sql.replace, params) == 1

    def delete(self, key: SessionKey) -> None:
        """See ``Store.delete``."""
        self._db.rowcount(self._sql.delete, (key,))

    def list_user(self, user_id: str, now: float) -> list[tuple[SessionKey, Record]]:
        """See ``UserIndex.list_user``: one SELECT through the user index."""
        rows = self._db.fetchall(self._sql.list_user, (user_id, now))
        return records(rows)

    def delete_user(self, user_id: str, *, keep: SessionKey | None = None) -> int:
        """See ``UserIndex.delete_user``: one DELETE through the user index."""
        return self._db.rowcount(self._sql.delete_user, (user_id, keep))

    def purge_expired(self, now: float, *, limit: int = 1000) -> int:
        """See ``Purging.purge_expired``: one bounded DELETE (``FOR UPDATE SKIP
        LOCKED``, so several purgers do not wait on each other)."""
        return self._db.rowcount(self._sql.purge, (now, limit))

    def scan(
        self, cursor: str | None, limit: int
    ) -> tuple[list[tuple[SessionKey, Record]], str | None]:
        """See ``Iterating.scan``: one keyset SELECT in key order after ``cursor``."""
        rows = self._db.fetchall(self._sql.scan, (cursor or "", limit))
        page = records(rows)
        last = SessionKey(rows[-1][0]) if len(rows) == limit and rows else None
        return page, last

    def setup(self) -> None:
        """See ``Schema.setup``: the table and its indexes, if missing."""
        self._db.setup()

    def close(self) -> None:
        """Close the pool and its connections."""
        self._db.close()
