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

The table can live in the sessions database or a file of its own.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from websession.auth.users import User, user_row, username_key
from websession.errors import StoreError, StoreTimeout, StoreUnavailable

__all__ = ["SQLiteUserStore"]

T = TypeVar("T")

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
_COLUMNS = "id, username, password_hash, created_at, password_changed_at"


def _user(row: tuple[str, str, str, float, float] | None) -> User | None:
    return None if row is None else User(*row)


class SQLiteUserStore:
    """Users in one SQLite database file (or ``:memory:``)."""

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
            self._db.execute(f"PRAGMA busy_timeout={int(timeout * 1000)}")
            self._db.execute(_SCHEMA)
        except (sqlite3.Error, OSError) as exc:
            raise StoreUnavailable(f"cannot open the SQLite user database {self.path}") from exc

    def _call(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        try:
            with self._lock:
                return fn(self._db)
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                raise StoreTimeout("the SQLite user database stayed locked") from exc
            raise StoreError("an SQLite user store operation failed") from exc
        except sqlite3.Error as exc:
            raise StoreError("an SQLite user store operation failed") from exc

    def get(self, user_id: str) -> User | None:
        """See ``UserStore.get``."""
        return _user(
            self._call(
                lambda db: db.execute(
                    f"SELECT {_COLUMNS} FROM websession_users WHERE id = ?",  # noqa: S608
                    (user_id,),
                ).fetchone()
            )
        )

    def find(self, username: str) -> User | None:
        """See ``UserStore.find``."""
        return _user(
            self._call(
                lambda db: db.execute(
                    f"SELECT {_COLUMNS} FROM websession_users WHERE username_key = ?",  # noqa: S608
                    (username_key(username),),
                ).fetchone()
            )
        )

    def create(self, user: User) -> bool:
        """See ``UserStore.create``: INSERT OR IGNORE on both unique columns."""
        values = user_row(user)
        return self._call(
            lambda db: (
                db.execute(
                    "INSERT OR IGNORE INTO websession_users (id, username, username_key, "
                    "password_hash, created_at, password_changed_at) VALUES (?, ?, ?, ?, ?, ?)",
                    values,
                ).rowcount
                == 1
            )
        )

    def set_password(
        self, user_id: str, *, old_hash: str, new_hash: str, changed_at: float
    ) -> bool:
        """See ``UserStore.set_password``: one conditional UPDATE."""
        return self._call(
            lambda db: (
                db.execute(
                    "UPDATE websession_users SET password_hash = ?, password_changed_at = ? "
                    "WHERE id = ? AND password_hash = ?",
                    (new_hash, changed_at, user_id, old_hash),
                ).rowcount
                == 1
            )
        )

    def delete(self, user_id: str) -> bool:
        """See ``UserStore.delete``."""
        return self._call(
            lambda db: (
                db.execute("DELETE FROM websession_users WHERE id = ?", (user_id,)).rowcount == 1
            )
        )

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._db.close()
