"""SQLite store: the embedded default. WAL journal, busy timeout, one table.

Schema (created on first use)::

    CREATE TABLE websession_sessions (
        key TEXT PRIMARY KEY,           -- SHA-256 of the token, never the token
        data BLOB NOT NULL,             -- JSON object
        created_at REAL NOT NULL, last_seen REAL NOT NULL,
        expires_at REAL NOT NULL, absolute_expires_at REAL NOT NULL,
        user_id TEXT                    -- per-user index (partial index)
    ) WITHOUT ROWID;

Reads are one primary-key SELECT. A patch is one UPDATE statement that merges the
changed keys into the stored JSON: ``json_set``/``json_remove`` (SQLite's own, in C)
when a JSON path can name every changed key, else ``websession_patch(data, set,
remove)``, a Python function each store registers on its connection (orjson, as on
create): a key holding ``"``, ``\\`` or a control character has no path that every
SQLite version reads alike. SQLite runs each statement under the database's write
lock, so the read and the write of the merge are one atomic step across threads and
processes: concurrent writers to different keys never lose each other's keys, and a
deleted row is never brought back. ``replace`` reads the old row and, only if it is
live, deletes it and inserts the new one, in one ``BEGIN IMMEDIATE`` transaction.

Readers never wait for writers, and the async face never lets the event loop wait for
a lock another process holds: ``connections`` says how. A row whose data is not a JSON
object is logged once, deleted and read as no session.

Modules: ``store`` (the operations and their SQL), ``connections`` (reader pool,
writer, non-blocking writes).
"""

from websession.stores.sqlite.store import SQLiteStore, open_async_sqlite

__all__ = ["SQLiteStore", "open_async_sqlite"]
