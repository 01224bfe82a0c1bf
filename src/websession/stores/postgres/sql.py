"""The PostgreSQL session store's schema and statements, and its row codecs.

Every operation is one statement. ``update`` merges the changed keys on the server,
``data = (data - removed) || set``, so concurrent requests that change different keys
both survive (PostgreSQL re-reads a row updated under it before applying the next
patch) and a deleted row is never brought back. ``replace`` is one statement too: a
DELETE of the old row *only while it is live and not revoked* (and the new key free),
feeding an INSERT that happens only if the DELETE found the row; of two concurrent
regenerates the second waits on the row lock, then finds nothing to delete.
"""

from __future__ import annotations

from typing import Any, LiteralString

import orjson
from psycopg import sql

from websession.core.lifecycle import REVOKED_KEY
from websession.stores.url import check_table
from websession.types import Changes, Record, SessionKey

__all__ = [
    "Statements",
    "insert_params",
    "record",
    "records",
    "render",
    "replace_params",
    "schema_statements",
    "update_params",
]

_COLUMNS = ("data", "created_at", "last_seen", "expires_at", "absolute_expires_at", "user_id")


def schema_statements(table: str = "websession_sessions") -> list[str]:
    """The SQL that creates the sessions table and its indexes (idempotent). Names are
    quoted as every statement quotes them, so ``MySessions`` or a reserved word
    names the same table everywhere."""
    check_table(table)
    name = sql.Identifier(table)
    expires, user = sql.Identifier(f"{table}_expires_idx"), sql.Identifier(f"{table}_user_idx")
    return [
        render(
            "CREATE TABLE IF NOT EXISTS {} (key TEXT PRIMARY KEY, data JSONB NOT NULL, "
            "created_at DOUBLE PRECISION NOT NULL, last_seen DOUBLE PRECISION NOT NULL, "
            "expires_at DOUBLE PRECISION NOT NULL, "
            "absolute_expires_at DOUBLE PRECISION NOT NULL, user_id TEXT)",
            name,
        ),
        render("CREATE INDEX IF NOT EXISTS {} ON {} (expires_at)", expires, name),
        render(
            "CREATE INDEX IF NOT EXISTS {} ON {} (user_id) WHERE user_id IS NOT NULL",
            user,
            name,
        ),
    ]


def render(template: LiteralString, *parts: sql.Composable) -> LiteralString:
    """``template`` with its ``{}`` filled by ``parts`` (identifiers), as text: rendered
    once, so psycopg does not compose it again on every execute."""
    # literal SQL around identifiers checked by check_table
    return sql.SQL(template).format(*parts).as_string(None)


class Statements:
    """The statements for one table, rendered to text once."""

    def __init__(self, table: str) -> None:
        name = sql.Identifier(table)
        columns = sql.SQL(", ").join(map(sql.Identifier, _COLUMNS))
        self.lock_key = f"websession_sessions:{table}"
        self.schema = [sql.SQL(statement) for statement in schema_statements(table)]
        self.load = render("SELECT {} FROM {} WHERE key = %s", columns, name)
        values = sql.SQL("%s, %s::jsonb, %s, %s, %s, %s, %s")
        self.create = render(
            "INSERT INTO {} (key, {}) VALUES ({}) ON CONFLICT (key) DO NOTHING",
            name,
            columns,
            values,
        )
        self.update = render(
            "UPDATE {} SET data = (data - %s::text[]) || %s::jsonb, last_seen = %s, "
            "expires_at = %s, user_id = CASE WHEN %s THEN %s::text ELSE user_id END "
            "WHERE key = %s",
            name,
        )
        self.touch = render("UPDATE {} SET last_seen = %s, expires_at = %s WHERE key = %s", name)
        self.replace = render(
            "WITH old AS (DELETE FROM {0} WHERE key = %s AND expires_at > %s "
            "AND absolute_expires_at > %s AND NOT data ? %s "
            "AND NOT EXISTS (SELECT 1 FROM {0} WHERE key = %s) RETURNING 1) "
            "INSERT INTO {0} (key, {1}) SELECT {2} WHERE EXISTS (SELECT 1 FROM old) "
            "ON CONFLICT (key) DO NOTHING",
            name,
            columns,
            values,
        )
        self.delete = render("DELETE FROM {} WHERE key = %s", name)
        self.list_user = render(
            "SELECT key, {} FROM {} WHERE user_id = %s AND expires_at > %s ORDER BY created_at",
            columns,
            name,
        )
        self.delete_user = render(
            "DELETE FROM {} WHERE user_id = %s AND key IS DISTINCT FROM %s::text", name
        )
        self.purge = render(
            "DELETE FROM {0} WHERE key IN (SELECT key FROM {0} WHERE expires_at <= %s "
            "ORDER BY expires_at LIMIT %s FOR UPDATE SKIP LOCKED)",
            name,
        )
        self.scan = render(
            "SELECT key, {} FROM {} WHERE key > %s ORDER BY key LIMIT %s", columns, name
        )


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


def record(row: Any) -> Record | None:
    """The record of a row's columns (``_COLUMNS`` order); None if the row is corrupt
    (its data is not a JSON object, or a column has the wrong type)."""
    data, created, seen, expires, absolute, user = row
    if (
        type(data) is not dict
        or not all(type(value) is float for value in (created, seen, expires, absolute))
        or (user is not None and type(user) is not str)
    ):
        return None
    return Record(data, created, seen, expires, absolute, user)


def records(rows: list[Any]) -> list[tuple[SessionKey, Record]]:
    """The ``(key, record)`` of rows that start with the key; corrupt rows left out."""
    found = ((SessionKey(row[0]), record(row[1:])) for row in rows)
    return [(key, rec) for key, rec in found if rec is not None]


def insert_params(key: SessionKey, record: Record) -> tuple[Any, ...]:
    """The parameters of ``create``."""
    return (
        key,
        _json(record.data),
        record.created_at,
        record.last_seen,
        record.expires_at,
        record.absolute_expires_at,
        record.user_id,
    )


def replace_params(old_key: SessionKey, key: SessionKey, record: Record) -> tuple[Any, ...]:
    """The parameters of ``replace``: the old row must be live at ``record.last_seen``."""
    now = record.last_seen
    return (old_key, now, now, REVOKED_KEY, key, *insert_params(key, record))


def update_params(key: SessionKey, changes: Changes) -> tuple[Any, ...]:
    """The parameters of ``update``."""
    return (
        list(changes.remove),
        _json(dict(changes.set)),
        changes.last_seen,
        changes.expires_at,
        changes.set_user,
        changes.user_id,
        key,
    )
