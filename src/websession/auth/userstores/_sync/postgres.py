# Generated from ../_async/postgres.py by scripts/generate_sync.py: do not edit.
"""The PostgreSQL user store (the async source; ``_sync/postgres.py`` is generated).

Every operation is one statement on a borrowed connection, through the same
``Database`` machinery as the PostgreSQL session store (pool, held connections, one
retry after a server restart, 503s). Schema (created on first use unless
``setup=false``, under an advisory lock)::

    CREATE TABLE websession_users (
        id TEXT PRIMARY KEY,
        username TEXT NOT NULL,
        username_key TEXT NOT NULL UNIQUE,   -- case-folded: the lookup key
        password_hash TEXT NOT NULL,         -- argon2id PHC string
        created_at DOUBLE PRECISION NOT NULL,
        password_changed_at DOUBLE PRECISION NOT NULL
    )
"""

from __future__ import annotations

from typing import Any

from psycopg import sql

from websession.auth.users import User, user_row, username_key
from websession.stores.postgres._sync.database import Database
from websession.stores.postgres.sql import render
from websession.stores.url import PostgresOptions

__all__ = ["PostgresUserStore", "UserStatements"]

_COLUMNS = ("id", "username", "password_hash", "created_at", "password_changed_at")


class UserStatements:
    """The statements for one users table, rendered to text once."""

    def __init__(self, table: str) -> None:
        name = sql.Identifier(table)
        columns = sql.SQL(", ").join(map(sql.Identifier, _COLUMNS))
        self.lock_key = f"websession_users:{table}"
        self.schema = [
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS {} (id TEXT PRIMARY KEY, username TEXT NOT NULL, "
                "username_key TEXT NOT NULL UNIQUE, password_hash TEXT NOT NULL, "
                "created_at DOUBLE PRECISION NOT NULL, "
                "password_changed_at DOUBLE PRECISION NOT NULL)"
            ).format(name)
        ]
        self.get = render("SELECT {} FROM {} WHERE id = %s", columns, name)
        self.find = render("SELECT {} FROM {} WHERE username_key = %s", columns, name)
        self.create = render(
            "INSERT INTO {} (id, username, username_key, password_hash, created_at, "
            "password_changed_at) VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
            name,
        )
        self.set_password = render(
            "UPDATE {} SET password_hash = %s, password_changed_at = %s "
            "WHERE id = %s AND password_hash = %s",
            name,
        )
        self.delete = render("DELETE FROM {} WHERE id = %s", name)


def _user(row: Any) -> User | None:
    return None if row is None else User(row[0], row[1], row[2], float(row[3]), float(row[4]))


class PostgresUserStore:
    """Users in a PostgreSQL table, through a pool of connections."""

    def __init__(self, options: PostgresOptions) -> None:
        self.options = options
        self._sql = UserStatements(options.table)
        self._db = Database(
            options, schema=self._sql.schema, lock_key=self._sql.lock_key, what="user store"
        )

    def __repr__(self) -> str:
        name = type(self).__name__
        return f"{name}(host={self.options.host!r}, table={self.options.table!r})"

    def get(self, user_id: str) -> User | None:
        """See ``UserStore.get``."""
        return _user(self._db.fetchone(self._sql.get, (user_id,)))

    def find(self, username: str) -> User | None:
        """See ``UserStore.find``."""
        return _user(self._db.fetchone(self._sql.find, (username_key(username),)))

    def create(self, user: User) -> bool:
        """See ``UserStore.create``: INSERT ... ON CONFLICT DO NOTHING."""
        return self._db.rowcount(self._sql.create, user_row(user)) == 1

    def set_password(
        self, user_id: str, *, old_hash: str, new_hash: str, changed_at: float
    ) -> bool:
        """See ``UserStore.set_password``: one conditional UPDATE."""
        params = (new_hash, changed_at, user_id, old_hash)
        return self._db.rowcount(self._sql.set_password, params) == 1

    def delete(self, user_id: str) -> bool:
        """See ``UserStore.delete``."""
        return self._db.rowcount(self._sql.delete, (user_id,)) == 1

    def setup(self) -> None:
        """Create the table if it is missing (idempotent)."""
        self._db.setup()

    def close(self) -> None:
        """Close the pool."""
        self._db.close()
