"""The MySQL / MariaDB session store's schema and statements, and its row codecs.

``data`` is a ``JSON`` column (on MariaDB a ``LONGTEXT`` with a ``JSON_VALID`` check;
on MySQL its binary JSON type): read as text and decoded here. ``update`` is one
statement that merges only the changed keys on the server,
``JSON_SET(JSON_REMOVE(data, removed...), key, value, ...)``, so concurrent requests
that change different keys both survive (the row lock orders them) and a deleted row
is never brought back. Its text depends on how many keys change, so it is rendered
per shape and kept. Member paths are ``$."<name>"`` with the name escaped as a JSON
string; values go in as JSON text through ``JSON_EXTRACT(%s, '$')``.

``load`` reads one text column, ``CONCAT_WS(' ', created_at, last_seen, expires_at,
absolute_expires_at, <user id length or '-'>, user_id, data)``, parsed by
``loaded_record``: the driver decodes one column description instead of six, which
is most of a read's client-side cost. The server prints each DOUBLE as the text
protocol does (shortest round-trip form), so the values read are the same.

``create`` is an ``INSERT IGNORE`` (one row inserted, or none when the key exists).
``replace`` is one short transaction: a DELETE of the old row *only while it is live
and not revoked* (the row lock makes a concurrent replace wait, then find nothing),
then an ``INSERT IGNORE`` of the new one, committed only if both touched a row.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import orjson

from websession.core.lifecycle import REVOKED_KEY
from websession.errors import StoreError
from websession.stores.url import check_table
from websession.types import Changes, Record, SessionKey

__all__ = [
    "MAX_TEXT",
    "Statements",
    "insert_params",
    "loaded_record",
    "path",
    "record",
    "schema_statements",
    "update_params",
]

MAX_TEXT = 255
"""The longest key and user id (``VARCHAR(255)`` columns)."""

_COLUMNS = "data, created_at, last_seen, expires_at, absolute_expires_at, user_id"
_PACKED = (
    "CONCAT_WS(' ', created_at, last_seen, expires_at, absolute_expires_at, "
    "IFNULL(CHAR_LENGTH(user_id), '-'), user_id, data)"
)


def schema_statements(table: str = "websession_sessions") -> list[str]:
    """The SQL that creates the sessions table and its indexes (idempotent)."""
    check_table(table)
    return [
        f"CREATE TABLE IF NOT EXISTS `{table}` ("
        "`key` VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY, "
        "data JSON NOT NULL, created_at DOUBLE NOT NULL, last_seen DOUBLE NOT NULL, "
        "expires_at DOUBLE NOT NULL, absolute_expires_at DOUBLE NOT NULL, "
        "user_id VARCHAR(255) NULL, "
        f"INDEX `{table}_expires_idx` (expires_at), INDEX `{table}_user_idx` (user_id)"
        ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin"
    ]


def path(name: str) -> str:
    """The JSON path of the top-level member ``name``: ``$."name"``, JSON-escaped."""
    return "$." + orjson.dumps(name).decode()


class Statements:
    """The statements for one table."""

    def __init__(self, table: str) -> None:
        t = f"`{check_table(table)}`"
        self.lock_name = f"websession_sessions:{table}"
        self.schema = schema_statements(table)
        self.load = f"SELECT {_PACKED} FROM {t} WHERE `key` = %s"
        self.create = (
            f"INSERT IGNORE INTO {t} (`key`, {_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s)"
        )
        self.touch = f"UPDATE {t} SET last_seen = %s, expires_at = %s WHERE `key` = %s"
        self.take_live = (
            f"DELETE FROM {t} WHERE `key` = %s AND expires_at > %s "
            "AND absolute_expires_at > %s AND NOT JSON_CONTAINS_PATH(data, 'one', %s)"
        )
        self.delete = f"DELETE FROM {t} WHERE `key` = %s"
        self.list_user = (
            f"SELECT `key`, {_COLUMNS} FROM {t} WHERE user_id = %s AND expires_at > %s "
            "ORDER BY created_at"
        )
        self.delete_user = f"DELETE FROM {t} WHERE user_id = %s AND NOT (`key` <=> %s)"
        self.purge = f"DELETE FROM {t} WHERE expires_at <= %s ORDER BY expires_at LIMIT %s"
        self.scan = f"SELECT `key`, {_COLUMNS} FROM {t} WHERE `key` > %s ORDER BY `key` LIMIT %s"
        self._table = t

    def update(self, changes: Changes) -> str:
        """The UPDATE for a patch of this shape (so many keys set, so many removed)."""
        return _update(self._table, len(changes.set), len(changes.remove))


_SET_ONE = ", %s, JSON_EXTRACT(%s, '$')"


@lru_cache(maxsize=256)
def _update(table: str, sets: int, removes: int) -> str:
    data = "data"
    if removes:
        data = f"JSON_REMOVE({data}{', %s' * removes})"
    if sets:
        data = f"JSON_SET({data}{_SET_ONE * sets})"
    return (
        f"UPDATE {table} SET data = {data}, last_seen = %s, expires_at = %s, "
        "user_id = IF(%s, %s, user_id) WHERE `key` = %s"
    )


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


def record(row: Any) -> Record:
    """The record of a row's columns (``_COLUMNS`` order)."""
    return Record(orjson.loads(row[0]), row[1], row[2], row[3], row[4], row[5])


def loaded_record(text: str) -> Record:
    """The record of ``load``'s one column (see the module docstring)."""
    created, seen, expires, absolute, length, rest = text.split(" ", 5)
    if length == "-":
        user, data = None, rest
    else:
        size = int(length)
        user, data = rest[:size], rest[size + 1 :]
    return Record(
        orjson.loads(data), float(created), float(seen), float(expires), float(absolute), user
    )


def insert_params(key: SessionKey, record: Record) -> tuple[Any, ...]:
    """The parameters of ``create``. INSERT IGNORE would also turn a value too long for
    its column into a warning and cut it (a server without strict mode does so on any
    write), so those are refused here instead."""
    if len(key) > MAX_TEXT or not key.isascii():
        raise StoreError("a MySQL store key is at most 255 ASCII characters")
    _check_user(record.user_id)
    return (
        key,
        _json(record.data),
        record.created_at,
        record.last_seen,
        record.expires_at,
        record.absolute_expires_at,
        record.user_id,
    )


def _check_user(user_id: str | None) -> None:
    if user_id is not None and len(user_id) > MAX_TEXT:
        raise StoreError("a user id in the MySQL store is at most 255 characters")


def take_live_params(old_key: SessionKey, now: float) -> tuple[Any, ...]:
    """The parameters of ``take_live``: the old row must be live at ``now``."""
    return (old_key, now, now, path(REVOKED_KEY))


def update_params(key: SessionKey, changes: Changes) -> list[Any]:
    """The parameters of ``Statements.update(changes)``."""
    _check_user(changes.user_id)
    params: list[Any] = [path(name) for name in changes.remove]
    for name, value in changes.set.items():
        params += (path(name), _json(value))
    params += (changes.last_seen, changes.expires_at, changes.set_user, changes.user_id, key)
    return params
