"""SQLite store: the embedded default. WAL journal, busy timeout, one table.

Schema (created on first use)::

    CREATE TABLE websession_sessions (
        key TEXT PRIMARY KEY,           -- SHA-256 of the token, never the token
        data BLOB NOT NULL,             -- JSON object
        created_at REAL NOT NULL, last_seen REAL NOT NULL,
        expires_at REAL NOT NULL, absolute_expires_at REAL NOT NULL,
        user_id TEXT                    -- per-user index (partial index)
    ) WITHOUT ROWID;

Reads are one primary-key SELECT. A patch is one UPDATE statement,
``data = websession_patch(data, set, remove)``, where ``websession_patch`` is a Python
function each store registers on its connection: it merges the changed keys into the
stored JSON (orjson, as on create). SQLite runs each statement under the database's
write lock, so the read and the write of the merge are one atomic step across threads
and processes: concurrent writers to different keys never lose each other's keys, and a
deleted row is never brought back. (SQLite's own JSON paths cannot address every key
before 3.45: a key holding ``"`` has no path, so the merge is not done with
``json_set``.) ``replace`` deletes and inserts in one ``BEGIN IMMEDIATE`` transaction.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import orjson

from websession.core.lifecycle import Lifecycle
from websession.errors import StoreError, StoreTimeout, StoreUnavailable
from websession.stores.base import AsyncStore
from websession.types import Changes, Record, SessionKey, patch_data

__all__ = ["SQLiteStore"]

T = TypeVar("T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS websession_sessions (
    key TEXT PRIMARY KEY,
    data BLOB NOT NULL,
    created_at REAL NOT NULL,
    last_seen REAL NOT NULL,
    expires_at REAL NOT NULL,
    absolute_expires_at REAL NOT NULL,
    user_id TEXT
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS websession_sessions_expires ON websession_sessions (expires_at);
CREATE INDEX IF NOT EXISTS websession_sessions_user
    ON websession_sessions (user_id) WHERE user_id IS NOT NULL;
"""
_COLUMNS = "data, created_at, last_seen, expires_at, absolute_expires_at, user_id"
_LOAD = f"SELECT {_COLUMNS} FROM websession_sessions WHERE key = ?"  # noqa: S608
_INSERT = f"INSERT INTO websession_sessions (key, {_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)"  # noqa: S608

_UPDATE = (
    "UPDATE websession_sessions SET data = websession_patch(data, ?, ?), last_seen = ?, "
    "expires_at = ?, user_id = CASE WHEN ? THEN ? ELSE user_id END WHERE key = ?"
)

Row = tuple[bytes, float, float, float, float, str | None]


def _record(row: Row) -> Record:
    return Record(orjson.loads(row[0]), row[1], row[2], row[3], row[4], row[5])


def _row(key: SessionKey, record: Record) -> tuple[object, ...]:
    return (
        key,
        orjson.dumps(record.data),
        record.created_at,
        record.last_seen,
        record.expires_at,
        record.absolute_expires_at,
        record.user_id,
    )


def _patch(data: bytes | str, set_: bytes | None, remove: bytes | None) -> bytes:
    """The SQL function ``websession_patch(data, set, remove)``: ``data`` with the keys
    of the JSON object ``set`` set and those of the JSON array ``remove`` removed."""
    merged = orjson.loads(data)
    patch_data(
        merged,
        orjson.loads(set_) if set_ is not None else {},
        orjson.loads(remove) if remove is not None else (),
    )
    return orjson.dumps(merged)


class SQLiteStore:
    """Sessions in one SQLite database file (or ``:memory:``)."""

    def __init__(self, path: str | Path, *, timeout: float = 5.0) -> None:
        self.path = str(path)
        self._lock = threading.Lock()
        try:
            if self.path != ":memory:":
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(
                self.path, timeout=timeout, isolation_level=None, check_same_thread=False
            )
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(f"PRAGMA busy_timeout={int(timeout * 1000)}")
            self._db.create_function("websession_patch", 3, _patch, deterministic=True)
            self._db.executescript(_SCHEMA)
        except (sqlite3.Error, OSError) as exc:
            raise StoreUnavailable(f"cannot open the SQLite session database {self.path}") from exc

    def _call(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        try:
            with self._lock:
                return fn(self._db)
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                raise StoreTimeout("the SQLite session database stayed locked") from exc
            raise StoreError("an SQLite session store operation failed") from exc
        except sqlite3.Error as exc:
            raise StoreError("an SQLite session store operation failed") from exc

    @contextmanager
    def _transaction(self, db: sqlite3.Connection) -> Iterator[None]:
        db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def load(self, key: SessionKey) -> Record | None:
        """One primary-key SELECT."""
        row = self._call(lambda db: db.execute(_LOAD, (key,)).fetchone())
        return None if row is None else _record(row)

    def create(self, key: SessionKey, record: Record) -> bool:
        """INSERT OR IGNORE: an existing key is left alone."""
        values = _row(key, record)

        def run(db: sqlite3.Connection) -> bool:
            cursor = db.execute(_INSERT.replace("INSERT", "INSERT OR IGNORE", 1), values)
            return cursor.rowcount == 1

        return self._call(run)

    def update(self, key: SessionKey, changes: Changes) -> bool:
        """One UPDATE that merges the changed keys into the stored data."""
        params = (
            orjson.dumps(dict(changes.set)) if changes.set else None,
            orjson.dumps(list(changes.remove)) if changes.remove else None,
            changes.last_seen,
            changes.expires_at,
            changes.set_user,
            changes.user_id,
            key,
        )
        return self._call(lambda db: db.execute(_UPDATE, params).rowcount == 1)

    def touch(self, key: SessionKey, last_seen: float, expires_at: float) -> bool:
        """One UPDATE of the deadline."""
        return self._call(
            lambda db: (
                db.execute(
                    "UPDATE websession_sessions SET last_seen = ?, expires_at = ? WHERE key = ?",
                    (last_seen, expires_at, key),
                ).rowcount
                == 1
            )
        )

    def replace(self, old_key: SessionKey, key: SessionKey, record: Record) -> bool:
        """In one transaction: if the old row is live at ``record.last_seen``, DELETE it
        and INSERT the new one; else change nothing and return False."""
        values = _row(key, record)

        def run(db: sqlite3.Connection) -> bool:
            with self._transaction(db):
                row = db.execute(_LOAD, (old_key,)).fetchone()
                if row is None or not Lifecycle.is_live(_record(row), record.last_seen):
                    return False
                db.execute("DELETE FROM websession_sessions WHERE key = ?", (old_key,))
                db.execute(_INSERT, values)
            return True

        return self._call(run)

    def delete(self, key: SessionKey) -> None:
        """DELETE by primary key."""
        self._call(lambda db: db.execute("DELETE FROM websession_sessions WHERE key = ?", (key,)))

    def list_user(self, user_id: str, now: float) -> list[tuple[SessionKey, Record]]:
        """SELECT through the user index."""
        rows = self._call(
            lambda db: db.execute(
                f"SELECT key, {_COLUMNS} FROM websession_sessions "  # noqa: S608
                "WHERE user_id = ? AND expires_at > ? ORDER BY created_at",
                (user_id, now),
            ).fetchall()
        )
        return [(SessionKey(r[0]), _record(r[1:])) for r in rows]

    def delete_user(self, user_id: str, *, keep: SessionKey | None = None) -> int:
        """DELETE through the user index."""
        return self._call(
            lambda db: (
                db.execute(
                    "DELETE FROM websession_sessions WHERE user_id = ? AND key IS NOT ?",
                    (user_id, keep),
                ).rowcount
            )
        )

    def purge_expired(self, now: float, *, limit: int = 1000) -> int:
        """DELETE a bounded batch of expired rows through the expiry index."""
        return self._call(
            lambda db: (
                db.execute(
                    "DELETE FROM websession_sessions WHERE key IN (SELECT key FROM "
                    "websession_sessions WHERE expires_at <= ? LIMIT ?)",
                    (now, limit),
                ).rowcount
            )
        )

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._db.close()


def open_async_sqlite(path: str | Path) -> AsyncStore:
    """The async face of an SQLite store at ``path`` (``:memory:`` for in-memory)."""
    from websession.stores.sync_adapter import AsyncAdapter

    return AsyncAdapter(SQLiteStore(path))
