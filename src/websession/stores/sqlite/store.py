"""The SQLite store's operations: one SQL statement each (``replace``: one transaction).

The package docstring describes the schema and the patch function; ``connections``
how reads and writes are kept apart.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import orjson

from websession.core.lifecycle import Lifecycle
from websession.errors import StoreUnavailable
from websession.stores.async_face import Run, async_face
from websession.stores.base import AsyncStore
from websession.stores.codec import log_corrupt
from websession.stores.sqlite.connections import Connections
from websession.types import Changes, Record, SessionKey, patch_data

__all__ = ["SQLiteStore", "open_async_sqlite"]

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
_CREATE = _INSERT.replace("INSERT", "INSERT OR IGNORE", 1)
_UPDATE_TAIL = ", last_seen = ?, expires_at = ? WHERE key = ?"
_SET_USER = ", user_id = ?"
"""Only when the user changes: an UPDATE that assigns ``user_id`` rewrites its index."""
_PYTHON_PATCH = "UPDATE websession_sessions SET data = websession_patch(data, ?, ?)"
_PATHABLE = re.compile(r'[^"\\\x00-\x1f]*')
"""Keys a JSON path names in every SQLite version: JSON writes them without escapes."""
_PATCHES: dict[tuple[int, int, bool], str] = {}
_TOUCH = "UPDATE websession_sessions SET last_seen = ?, expires_at = ? WHERE key = ?"
_DELETE = "DELETE FROM websession_sessions WHERE key = ?"
_DELETE_CORRUPT = "DELETE FROM websession_sessions WHERE key = ? AND data = ?"
_LIST_USER = (
    f"SELECT key, {_COLUMNS} FROM websession_sessions "  # noqa: S608
    "WHERE user_id = ? AND expires_at > ? ORDER BY created_at"
)
_DELETE_USER = "DELETE FROM websession_sessions WHERE user_id = ? AND key IS NOT ?"
_PURGE = (
    "DELETE FROM websession_sessions WHERE key IN "
    "(SELECT key FROM websession_sessions WHERE expires_at <= ? LIMIT ?)"
)
_SCAN = (
    f"SELECT key, {_COLUMNS} FROM websession_sessions "  # noqa: S608
    "WHERE key > ? ORDER BY key LIMIT ?"
)

Row = tuple[bytes, float, float, float, float, str | None]


def _record(row: Row) -> Record | None:
    """The record of a row, or None if its data is corrupt (not a JSON object)."""
    try:
        data = orjson.loads(row[0])
    except orjson.JSONDecodeError:
        return None
    if type(data) is not dict:
        return None
    return Record(data, row[1], row[2], row[3], row[4], row[5])


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


def _patch_statement(n_set: int, n_remove: int, set_user: bool) -> str:
    """The UPDATE that patches ``n_set`` keys (path, JSON text each) and removes
    ``n_remove`` keys (path each) with SQLite's own JSON functions, in C (``n_set``
    -1: with ``websession_patch``, in Python); ``user_id`` too if ``set_user``."""
    statement = _PATCHES.get((n_set, n_remove, set_user))
    if statement is None:
        if n_set < 0:
            start = _PYTHON_PATCH
        else:
            data = "CAST(data AS TEXT)"  # text JSON: SQLite 3.45+ reads a BLOB as JSONB
            if n_set:
                data = f"json_set({data}{', ?, json(?)' * n_set})"
            if n_remove:
                data = f"json_remove({data}{', ?' * n_remove})"
            start = f"UPDATE websession_sessions SET data = CAST({data} AS BLOB)"  # noqa: S608 - placeholders only
        statement = start + (_SET_USER if set_user else "") + _UPDATE_TAIL
        _PATCHES[n_set, n_remove, set_user] = statement
    return statement


def _path(name: str) -> str:
    return '$."' + name + '"'


def _configure(db: sqlite3.Connection) -> None:
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.create_function("websession_patch", 3, _patch, deterministic=True)


@contextmanager
def _transaction(db: sqlite3.Connection) -> Iterator[None]:
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


class SQLiteStore:
    """Sessions in one SQLite database file (or ``:memory:``).

    Abilities: ``UserIndex``, ``Purging``, ``Iterating``, ``Schema``. With
    ``nonblocking=True`` (the async face) a write that would wait for a lock raises
    ``WouldBlock`` instead, unless it runs through ``run_waiting``."""

    def __init__(
        self, path: str | Path, *, timeout: float = 5.0, nonblocking: bool = False
    ) -> None:
        self.path = str(path)
        try:
            if self.path != ":memory:":
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            self._db = Connections(
                self.path, timeout, configure=_configure, nonblocking=nonblocking
            )
            self._db.writer.executescript(_SCHEMA)
        except (sqlite3.Error, OSError) as exc:
            raise StoreUnavailable(f"cannot open the SQLite session database {self.path}") from exc

    def load(self, key: SessionKey) -> Record | None:
        """One primary-key SELECT (``Connections.read_row``: never waits for a writer)."""
        row = self._db.read_row(_LOAD, (key,))
        if row is None:
            return None
        record = _record(row)  # _checked, inlined
        if record is None:
            self._db.write(lambda db: self._discard(db, key, row[0]))
        return record

    def create(self, key: SessionKey, record: Record) -> bool:
        """INSERT OR IGNORE: an existing key is left alone."""
        values = _row(key, record)
        return self._db.write(lambda db: db.execute(_CREATE, values).rowcount == 1)

    def update(self, key: SessionKey, changes: Changes) -> bool:
        """One UPDATE that merges the changed keys into the stored data: with
        ``json_set``/``json_remove`` when a JSON path can name every key, else with
        ``websession_patch``."""
        changed, removed, set_user = changes.set, changes.remove, changes.set_user
        pathable = _PATHABLE.fullmatch
        params: list[object] = []
        if all(pathable(name) for name in changed) and all(pathable(n) for n in removed):
            for name, value in changed.items():
                params.append(_path(name))
                params.append(orjson.dumps(value).decode())
            params.extend(_path(name) for name in removed)
            statement = _patch_statement(len(changed), len(removed), set_user)
        else:
            params.append(orjson.dumps(dict(changed)) if changed else None)
            params.append(orjson.dumps(list(removed)) if removed else None)
            statement = _patch_statement(-1, 0, set_user)
        if set_user:
            params.append(changes.user_id)
        params += (changes.last_seen, changes.expires_at, key)
        return self._db.write(lambda db: db.execute(statement, params).rowcount == 1)

    def touch(self, key: SessionKey, last_seen: float, expires_at: float) -> bool:
        """One UPDATE of the deadline."""
        params = (last_seen, expires_at, key)
        return self._db.write(lambda db: db.execute(_TOUCH, params).rowcount == 1)

    def replace(self, old_key: SessionKey, key: SessionKey, record: Record) -> bool:
        """In one ``BEGIN IMMEDIATE`` transaction: read the old row; if it is live at
        ``record.last_seen``, DELETE it and INSERT the new one."""
        values = _row(key, record)

        def run(db: sqlite3.Connection) -> bool:
            with _transaction(db):
                row = db.execute(_LOAD, (old_key,)).fetchone()
                if row is None or db.execute(_LOAD, (key,)).fetchone() is not None:
                    return False
                old = _record(row)
                if old is None:
                    self._discard(db, old_key, row[0])
                    return False
                if not Lifecycle.within_deadlines(old, record.last_seen):
                    return False
                if Lifecycle.is_revoked(old):
                    return False
                db.execute(_DELETE, (old_key,))
                db.execute(_INSERT, values)
            return True

        return self._db.write(run)

    def delete(self, key: SessionKey) -> None:
        """DELETE by primary key."""
        self._db.write(lambda db: db.execute(_DELETE, (key,)))

    def list_user(self, user_id: str, now: float) -> list[tuple[SessionKey, Record]]:
        """SELECT through the user index."""
        rows = self._db.read(lambda db: db.execute(_LIST_USER, (user_id, now)).fetchall())
        return self._records(rows)

    def delete_user(self, user_id: str, *, keep: SessionKey | None = None) -> int:
        """DELETE through the user index."""
        return self._db.write(lambda db: db.execute(_DELETE_USER, (user_id, keep)).rowcount)

    def purge_expired(self, now: float, *, limit: int = 1000) -> int:
        """DELETE a bounded batch of expired rows through the expiry index."""
        return self._db.write(lambda db: db.execute(_PURGE, (now, limit)).rowcount)

    def scan(
        self, cursor: str | None, limit: int
    ) -> tuple[list[tuple[SessionKey, Record]], str | None]:
        """Up to ``limit`` rows in key order after ``cursor`` (the last key returned)."""
        rows = self._db.read(lambda db: db.execute(_SCAN, (cursor or "", limit)).fetchall())
        return self._records(rows), (rows[-1][0] if len(rows) == limit else None)

    def _checked(self, key: SessionKey, row: Row) -> Record | None:
        record = _record(row)
        if record is None:
            self._db.write(lambda db: self._discard(db, key, row[0]))
        return record

    def _records(self, rows: list[Any]) -> list[tuple[SessionKey, Record]]:
        """``(key, record)`` for rows of ``key, <columns>``; corrupt ones are discarded."""
        found = []
        for row in rows:
            record = self._checked(SessionKey(row[0]), row[1:])
            if record is not None:
                found.append((SessionKey(row[0]), record))
        return found

    def _discard(self, db: sqlite3.Connection, key: SessionKey, data: bytes) -> None:
        if db.execute(_DELETE_CORRUPT, (key, data)).rowcount:
            log_corrupt("SQLite", key)

    def setup(self) -> None:
        """Create the table and its indexes if they are missing."""
        self._db.write(lambda db: db.executescript(_SCHEMA))

    def run_waiting(self, call: Callable[[], T]) -> Awaitable[T]:
        """Run ``call`` on the store's waiting thread (the async face's fallback)."""
        return self._db.run_waiting(call)

    def close(self) -> None:
        """Close every connection."""
        self._db.close()


def open_async_sqlite(path: str | Path) -> AsyncStore:
    """The async face of an SQLite store at ``path`` (``:memory:`` for in-memory): reads
    and uncontended writes run on the loop thread, a write that must wait for another
    process's lock waits on the store's own thread."""
    return async_face(SQLiteStore(path, nonblocking=True), Run.TRY_INLINE)
