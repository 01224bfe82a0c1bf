"""The Redis store's operations as sans-IO plans: which commands, in which round trips.

A ``Plan`` is a generator: it yields a batch of commands (one round trip, pipelined
when longer than one, routed to each server concerned at once on a cluster), receives
their replies, and returns the operation's result. The sync and async drivers run the
same plans, so the commands of an operation are written once.

Key layout (``P`` is the prefix, ``K`` the session key: the SHA-256 of the token, or a
``record_key`` such as ``ratelimit.<hex>`` for a non-session record)::

    P:s:{K}     HASH, one per record; expires (PEXPIREAT) at the record's idle deadline
        d:<name>    one field per data key: its JSON value (orjson)
        m:c m:l     created_at, last_seen     (Unix seconds, as Python float reprs)
        m:e m:a     expires_at, absolute_expires_at
        m:u         user_id (absent when the session has no user)
    P:u:<user>  ZSET, the per-user index: member K, scored by the session's absolute
                deadline; expires with its latest member

Round trips: ``load`` is one HGETALL; ``create``, ``update``, ``touch`` and ``delete``
are one script each (checks, patch and expiry in one atomic step, so an update never
resurrects a deleted session); ``list_user`` and ``delete_user`` read the index, then
the sessions in one pipeline (and prune members whose session is gone). ``scan`` runs
SCAN over ``P:s:{*}`` (never on a request path).

Cluster trade-off. A session cannot live in its user's hash slot (the session exists
before its user logs in), so it is tagged by its own key (``{K}``) and the index sits in
a slot of its own; on a cluster every script touches one key, so two keys never change
in one atomic step:

* standalone Redis/Valkey: each write script also maintains the index, so session and
  index change together; ``replace`` is one script over both sessions: it checks the
  old one is live and not revoked, deletes it, creates the new one, moves the index;
* Redis Cluster: index writes are separate commands, ordered so that a failure leaves
  only an *extra* index member (filtered out, removed or pruned later), never a session
  missing from its user's index, which would escape a logout-everywhere. ``create``
  with a user pipelines the index write with the session's script. ``update`` binding
  a user takes three round trips: read the absolute deadline, add the member, bind.
  ``replace`` takes two: first the index member with ``TAKE``, a script that deletes
  the old session only if it is live and not revoked; then, only if it did, the new
  session. The check-and-delete is atomic, so of two concurrent regenerates only one
  goes on, and nothing a logout ended comes back; a failure between the two steps
  loses the session (the user signs in again), never duplicates it.

Data keys are never lost in either mode; only the index may be stale, and only in the
self-healing direction.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from typing import Any, TypeVar

import orjson

from websession.core.lifecycle import REVOKED_KEY
from websession.stores.codec import log_corrupt
from websession.stores.redis import scripts
from websession.stores.redis.scripts import Command
from websession.types import Changes, Record, SessionKey

__all__ = ["Plan", "Plans", "ScanPosition", "scan_cursor", "scan_position", "scan_reply"]

T = TypeVar("T")

Plan = Generator[list[Command], list[Any], T]
"""An operation: yields batches (one round trip each), receives their replies."""

ScanPosition = tuple[int, int]
"""Where a scan stands: (server, SCAN cursor on that server)."""

_REVOKED_FIELD = "d:" + REVOKED_KEY


def _ms(seconds: float) -> int:
    return math.ceil(seconds * 1000)


def _fields(record: Record) -> list[Any]:
    fields: list[Any] = [
        "m:c", record.created_at, "m:l", record.last_seen,
        "m:e", record.expires_at, "m:a", record.absolute_expires_at,
    ]  # fmt: skip
    if record.user_id is not None:
        fields += ["m:u", record.user_id]
    for name, value in record.data.items():
        fields += ["d:" + name, orjson.dumps(value)]
    return fields


def _record(fields: dict[bytes, bytes]) -> Record | None:
    """The record of a hash's fields; None if it is corrupt (a field that is not
    JSON, a deadline that is not a number, a name that is not UTF-8, or a WRONGTYPE
    error instead of fields: the key holds another type)."""
    try:
        data = {
            name[2:].decode(): orjson.loads(value)
            for name, value in fields.items()
            if name[:2] == b"d:"
        }
        user = fields.get(b"m:u")
        created, seen, expires, absolute = (
            float(fields[name]) for name in (b"m:c", b"m:l", b"m:e", b"m:a")
        )
        if not all(math.isfinite(value) for value in (created, seen, expires, absolute)):
            return None
        return Record(
            data, created, seen, expires, absolute, None if user is None else user.decode()
        )
    except (KeyError, ValueError, TypeError, AttributeError):
        return None


def _live_records(pairs: list[tuple[SessionKey, Any]]) -> list[tuple[SessionKey, Record]]:
    """The ``(key, record)`` of hashes found; missing and corrupt ones left out."""
    found = ((key, _record(fields)) for key, fields in pairs if fields)
    return [(key, record) for key, record in found if record is not None]


def _glob_escape(text: str) -> str:
    return "".join("\\" + c if c in "*?[]\\" else c for c in text)


class Plans:
    """Every store operation as a ``Plan``, for one prefix and one deployment kind."""

    def __init__(self, prefix: str, cluster: bool) -> None:
        self.cluster = cluster
        self._session_prefix = f"{prefix}:s:{{"
        self.index_prefix = f"{prefix}:u:"
        # Standalone scripts maintain the index themselves; cluster scripts cannot.
        self._script_index = "" if cluster else self.index_prefix
        self.scan_match = _glob_escape(self._session_prefix) + "*}"
        """The SCAN pattern of every record's key."""

    def session(self, key: str) -> str:
        """The Redis key of a session, hash-tagged by the session key."""
        return f"{self._session_prefix}{key}}}"

    def index(self, user_id: str) -> str:
        """The Redis key of a user's index."""
        return self.index_prefix + user_id

    def _index_add(self, user_id: str, key: str, score: Any) -> Command:
        return scripts.INDEX_ADD.call([self.index(user_id)], [key, score])

    def load(self, key: SessionKey) -> Plan[Record | None]:
        (fields,) = yield [("HGETALL", self.session(key))]
        if not fields:
            return None
        record = _record(fields)
        if record is None:  # corrupt or another type (WRONGTYPE): logged once, removed
            yield [("DEL", self.session(key))]
            log_corrupt("Redis", key)
        return record

    def create(self, key: SessionKey, record: Record) -> Plan[bool]:
        call = self._create(key, record)
        if self.cluster and record.user_id is not None:
            results = yield [self._index_add(record.user_id, key, record.absolute_expires_at), call]
        else:
            results = yield [call]
        return bool(results[-1] == 1)

    def _create(self, key: SessionKey, record: Record) -> Command:
        args = [_ms(record.expires_at), key, record.absolute_expires_at, self._script_index]
        return scripts.CREATE.call([self.session(key)], [*args, *_fields(record)])

    def update(self, key: SessionKey, changes: Changes) -> Plan[bool]:
        session = self.session(key)
        user = changes.user_id if changes.set_user else None
        change = "" if not changes.set_user else "-" if user is None else "="
        if self.cluster and user is not None:
            # Index first, bind second: a failure leaves an extra member, never a gap.
            (absolute,) = yield [("HGET", session, "m:a")]
            if absolute is None:
                return False
            yield [self._index_add(user, key, absolute)]
        pairs: list[Any] = ["m:l", changes.last_seen, "m:e", changes.expires_at]
        for name, value in changes.set.items():
            pairs += ["d:" + name, orjson.dumps(value)]
        args = [_ms(changes.expires_at), key, self._script_index, change, user or "", len(pairs)]
        removed = ["d:" + name for name in changes.remove]
        (updated,) = yield [scripts.UPDATE.call([session], [*args, *pairs, *removed])]
        return bool(updated == 1)

    def touch(self, key: SessionKey, last_seen: float, expires_at: float) -> Plan[bool]:
        return self.update(key, Changes(last_seen=last_seen, expires_at=expires_at))

    def replace(self, old_key: SessionKey, key: SessionKey, record: Record) -> Plan[bool]:
        now = record.last_seen
        if not self.cluster:
            keys = [self.session(key), self.session(old_key)]
            args = [_ms(record.expires_at), key, record.absolute_expires_at, self.index_prefix]
            args += [old_key, now, _REVOKED_FIELD, *_fields(record)]
            (replaced,) = yield [scripts.REPLACE.call(keys, args)]
            return bool(replaced == 1)
        batch = [scripts.TAKE.call([self.session(old_key)], [now, _REVOKED_FIELD])]
        if record.user_id is not None:  # index first: a failure leaves an extra member
            batch.insert(0, self._index_add(record.user_id, key, record.absolute_expires_at))
        results = yield batch
        if results[-1] != 1:
            return False
        (created,) = yield [self._create(key, record)]
        return bool(created == 1)

    def delete(self, key: SessionKey) -> Plan[None]:
        if self.cluster:
            yield [("DEL", self.session(key))]
        else:
            yield [scripts.DELETE.call([self.session(key)], [self.index_prefix, key])]

    def list_user(self, user_id: str, now: float) -> Plan[list[tuple[SessionKey, Record]]]:
        index = self.index(user_id)
        (members,) = yield [("ZRANGE", index, 0, -1)]
        if not members:
            return []
        found = yield [("HGETALL", self.session(m.decode())) for m in members]
        gone = [m for m, fields in zip(members, found, strict=True) if not fields]
        if gone:
            yield [("ZREM", index, *gone)]
        sessions = _live_records(
            [(SessionKey(m.decode()), fields) for m, fields in zip(members, found, strict=True)]
        )
        live = [(k, r) for k, r in sessions if r.user_id == user_id and r.expires_at > now]
        live.sort(key=lambda item: item[1].created_at)
        return live

    def delete_user(self, user_id: str, keep: SessionKey | None) -> Plan[int]:
        index = self.index(user_id)
        (members,) = yield [("ZRANGE", index, 0, -1)]
        targets = [m for m in members if m.decode() != keep]
        if not targets:
            return 0
        results = yield [
            scripts.DELETE_IF_OWNED.call([self.session(m.decode())], [user_id]) for m in targets
        ]
        # Drop the members deleted here or already gone; another user's stay until pruned.
        done = [m for m, result in zip(targets, results, strict=True) if result >= 0]
        if done:
            yield [("ZREM", index, *done)]
        return sum(1 for result in results if result == 1)

    # -- scan ------------------------------------------------------------------------

    def scan_command(self, position: int, limit: int) -> Command:
        """One SCAN step over the records' keys on one server."""
        return ("SCAN", position, "MATCH", self.scan_match, "COUNT", max(1, limit))

    def load_many(self, names: list[bytes]) -> Plan[list[tuple[SessionKey, Record]]]:
        """The records of the Redis keys ``names`` (as SCAN returns them), skipping any
        that are gone since."""
        if not names:
            return []
        found = yield [("HGETALL", name) for name in names]
        start = len(self._session_prefix)
        return _live_records(
            [(SessionKey(name[start:-1].decode()), f) for name, f in zip(names, found, strict=True)]
        )


def scan_position(cursor: str | None) -> ScanPosition:
    """The position a scan cursor stands for (None: the start)."""
    if cursor is None:
        return (0, 0)
    server, _, position = cursor.partition(":")
    if not (server.isdigit() and position.isdigit()):
        raise ValueError(f"not a Redis store scan cursor: {cursor!r}")
    return (int(server), int(position))


def scan_reply(reply: Any) -> tuple[int, list[bytes]]:
    """The next SCAN cursor and the key names of a SCAN reply, in any client's form."""
    position, names = reply
    if isinstance(position, dict):  # a cluster client's reply: {node name: cursor}
        (position,) = position.values()
    return int(position), list(names)


def scan_cursor(server: int, position: int, servers: int) -> str | None:
    """The cursor after a SCAN step on ``server`` that returned ``position`` (0: that
    server is done), of ``servers`` in all; None when every server is done."""
    if position:
        return f"{server}:{position}"
    if server + 1 < servers:
        return f"{server + 1}:0"
    return None
