# Generated from ../_async/store.py by scripts/generate_sync.py: do not edit.
"""The MySQL / MariaDB session store (the async source; ``_sync/store.py`` is
generated).

Every operation but ``replace`` is one statement (``websession.stores.mysql.sql``) on
a pooled connection (``AsyncDatabase``); ``replace`` is one short transaction.
Abilities: ``UserIndex``, ``Purging`` (bounded batches), ``Iterating`` (keyset pages
in key order; the cursor is the last key) and ``Schema``.
"""

from __future__ import annotations

from websession.stores.mysql._sync.database import Database
from websession.stores.mysql.compat import Connection
from websession.stores.mysql.options import MysqlOptions
from websession.stores.mysql.sql import (
    Statements,
    insert_params,
    loaded_record,
    record,
    take_live_params,
    update_params,
)
from websession.types import Changes, Record, SessionKey

__all__ = ["MysqlStore"]


class MysqlStore:
    """Sessions in a MySQL or MariaDB table, through a pool of connections."""

    def __init__(self, options: MysqlOptions) -> None:
        self.options = options
        self._sql = Statements(options.table)
        self._db = Database(
            options, schema=self._sql.schema, lock_name=self._sql.lock_name, what="session store"
        )

    def __repr__(self) -> str:
        name = type(self).__name__
        return f"{name}(host={self.options.host!r}, table={self.options.table!r})"

    def load(self, key: SessionKey) -> Record | None:
        """See ``Store.load``: one primary-key SELECT (of one packed column)."""
        row = self._db.fetchone(self._sql.load, (key,))
        return None if row is None else loaded_record(row[0])

    def create(self, key: SessionKey, record: Record) -> bool:
        """See ``Store.create``: one INSERT IGNORE, which never overwrites."""
        return self._db.rowcount(self._sql.create, insert_params(key, record)) == 1

    def update(self, key: SessionKey, changes: Changes) -> bool:
        """See ``Store.update``: one UPDATE merging the changed keys on the server."""
        query = self._sql.update(changes)
        return self._db.rowcount(query, update_params(key, changes)) == 1

    def touch(self, key: SessionKey, last_seen: float, expires_at: float) -> bool:
        """See ``Store.touch``: one UPDATE of the deadline."""
        return self._db.rowcount(self._sql.touch, (last_seen, expires_at, key)) == 1

    def replace(self, old_key: SessionKey, key: SessionKey, record: Record) -> bool:
        """See ``Store.replace``: in one transaction, delete the old row only while it
        is live and not revoked, then insert the new one; commit only if both did."""

        def run(conn: Connection) -> bool:
            cursor = conn.cursor()
            conn.begin()
            taken = cursor.execute(self._sql.take_live, take_live_params(old_key, record.last_seen))
            if taken == 1 and cursor.execute(self._sql.create, insert_params(key, record)):
                conn.commit()
                return True
            conn.rollback()
            return False

        return self._db.run(run)

    def delete(self, key: SessionKey) -> None:
        """See ``Store.delete``."""
        self._db.rowcount(self._sql.delete, (key,))

    def list_user(self, user_id: str, now: float) -> list[tuple[SessionKey, Record]]:
        """See ``UserIndex.list_user``: one SELECT through the user index."""
        rows = self._db.fetchall(self._sql.list_user, (user_id, now))
        return [(SessionKey(row[0]), record(row[1:])) for row in rows]

    def delete_user(self, user_id: str, *, keep: SessionKey | None = None) -> int:
        """See ``UserIndex.delete_user``: one DELETE through the user index."""
        return self._db.rowcount(self._sql.delete_user, (user_id, keep))

    def purge_expired(self, now: float, *, limit: int = 1000) -> int:
        """See ``Purging.purge_expired``: one DELETE of at most ``limit`` rows."""
        return self._db.rowcount(self._sql.purge, (now, limit))

    def scan(
        self, cursor: str | None, limit: int
    ) -> tuple[list[tuple[SessionKey, Record]], str | None]:
        """See ``Iterating.scan``: one keyset SELECT in key order after ``cursor``."""
        rows = self._db.fetchall(self._sql.scan, (cursor or "", limit))
        page = [(SessionKey(row[0]), record(row[1:])) for row in rows]
        return page, (page[-1][0] if len(page) == limit and page else None)

    def setup(self) -> None:
        """See ``Schema.setup``: the table and its indexes, if missing."""
        self._db.setup()

    def close(self) -> None:
        """Close the pooled connections."""
        self._db.close()
