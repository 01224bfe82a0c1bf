"""SQLite user store: one table, ``websession_users``, in any SQLite file.

Schema (created on first use)::

    CREATE TABLE websession_users (
        id TEXT PRIMARY KEY,
        username TEXT NOT NULL,             -- as registered (NFKC)
        username_key TEXT NOT NULL UNIQUE,  -- case-folded: the lookup key
        password_hash TEXT NOT NULL,        -- argon2id PHC string
        created_at REAL NOT NULL,
        password_changed_at REAL NOT NULL
    )

The table can live in the sessions database or a file of its own. Readers never wait
for writers: writes go through one connection behind a lock (SQLite has one writer at
a time anyway, and a write may wait up to ``timeout`` for another process's lock),
while each thread reads on a connection of its own, which WAL lets proceed meanwhile.
An in-memory database (``:memory:``) is one connection, shared by both.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from websession.auth.users import User, user_row, username_key
from websession.errors import StoreError, StoreTimeout, StoreUnavailable

__all__ = ["SQLiteUserStore"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS websession_users (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL,
    username_key TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    created_at REAL NOT NULL,
    password_changed_at REAL NOT NULL
)
"""
_SELECT = (
    "SELECT id, username, password_hash, created_at, password_changed_at FROM websession_users"
)
_GET = _SELECT + " WHERE id = ?"
_FIND = _SELECT + " WHERE username_key = ?"
_CREATE = (
    "INSERT OR IGNORE INTO websession_users (id, username, username_key, password_hash, "
    "created_at, password_changed_at) VALUES (?, ?, ?, ?, ?, ?)"
)
_NEW_HASH = (
    "UPDATE websession_users SET password_hash = ?, password_changed_at = ? "
    "WHERE id = ? AND password_hash = ?"
)
_DELETE = "DELETE FROM websession_users WHERE id = ?"


def _failure(exc: sqlite3.Error) -> StoreError:
    if isinstance(exc, sqlite3.OperationalError) and ("locked" in str(exc) or "busy" in str(exc)):
        return StoreTimeout("the SQLite user database stayed locked")
    return StoreError("an SQLite user store operation failed")


class SQLiteUserStore:
    """Users in one SQLite database file (or ``:memory:``)."""

    def __init__(self, path: str | Path, *, timeout: float = 5.0) -> None:
        self.path = str(path)
        self._timeout = timeout
        self._lock = threading.Lock()  # the writer's
        self._readers_lock = threading.Lock()
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._closed = False
        try:
            if self.path != ":memory:":
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            self._writer = self._connect()
            self._writer.execute("PRAGMA journal_mode=WAL")
            self._writer.execute(_SCHEMA)
        except (sqlite3.Error, OSError) as exc:
            raise StoreUnavailable(f"cannot open the SQLite user database {self.path}") from exc

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(
            self.path, timeout=self._timeout, isolation_level=None, check_same_thread=False
        )
        db.execute(f"PRAGMA busy_timeout={int(self._timeout * 1000)}")
        return db

    def _reader(self) -> sqlite3.Connection:
        """This thread's read connection (the writer's for ``:memory:``)."""
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            if self._closed:
                raise sqlite3.ProgrammingError("the user store is closed")
            if self.path == ":memory:":
                return self._writer
            db = self._local.db = self._connect()
            with self._readers_lock:
                self._readers.append(db)
        return db

    def _read(self, query: str, key: str) -> User | None:
        try:
            if self.path == ":memory:":
                with self._lock:
                    row = self._writer.execute(query, (key,)).fetchone()
            else:
                row = self._reader().execute(query, (key,)).fetchone()
        except sqlite3.Error as exc:
            raise _failure(exc) from exc
        return None if row is None else User(*row)

    def _write(self, query: str, params: tuple[object, ...]) -> bool:
        try:
            with self._lock:
                return self._writer.execute(query, params).rowcount == 1
        except sqlite3.Error as exc:
            raise _failure(exc) from exc

    def get(self, user_id: str) -> User | None:
        """See ``UserStore.get``: one primary-key read, never behind a writer."""
        return self._read(_GET, user_id)

    def find(self, username: str) -> User | None:
        """See ``UserStore.find``: one read through the unique username index."""
        return self._read(_FIND, username_key(username))

    def create(self, user: User) -> bool:
        """See ``UserStore.create``: INSERT OR IGNORE on both unique columns."""
        return self._write(_CREATE, user_row(user))

    def set_password(
        self, user_id: str, *, old_hash: str, new_hash: str, changed_at: float
    ) -> bool:
        """See ``UserStore.set_password``: one conditional UPDATE."""
        return self._write(_NEW_HASH, (new_hash, changed_at, user_id, old_hash))

    def delete(self, user_id: str) -> bool:
        """See ``UserStore.delete``."""
        return self._write(_DELETE, (user_id,))

    def close(self) -> None:
        """Close every connection."""
        with self._readers_lock:
            self._closed = True
            readers, self._readers = self._readers, []
        for db in readers:
            db.close()
        with self._lock:
            self._writer.close()
