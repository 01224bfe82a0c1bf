"""The operator's commands over one store: stats, list, show, revoke, purge.

``revoke`` means what the auth layer's revoke means (``auth._sync.revocation``): a live
session is marked revoked and kept until its deadline, so a replay of its cookie is
told ``session_revoked``. ``list`` shows live sessions only (not expired, not revoked).
Nothing here prints a token (stores never hold one) or a data value unless asked
(``show --data``); reserved values (CSRF token, device, revocation) never print.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from websession.auth._sync.revocation import indexed, live_sessions, revoke, revoke_user
from websession.auth.devices import device_of
from websession.cli.migrate import iterating, kind_of
from websession.cli.output import emit_json, iso, key_prefix, table, when
from websession.cli.progress import Progress
from websession.cli.stores import Users
from websession.core.jsondata import RESERVED_PREFIX
from websession.core.lifecycle import Lifecycle
from websession.errors import ConfigError
from websession.stores.base import Purging, Store, is_session_key
from websession.stores.url import local_path, scheme, sqlite_path
from websession.types import Record, SessionKey

__all__ = [
    "NoMatch",
    "find_session",
    "run_list",
    "run_purge",
    "run_revoke",
    "run_show",
    "run_stats",
]


class NoMatch(Exception):
    """Nothing matched what the operator asked for (exit status 1)."""


def _state(record: Record, now: float) -> str:
    if not Lifecycle.within_deadlines(record, now):
        return "expired"
    return "revoked" if Lifecycle.is_revoked(record) else "live"


def session_summary(key: SessionKey, record: Record, users: Users, now: float) -> dict[str, Any]:
    """A session's metadata as ``list``, ``show`` and their JSON print it."""
    device = device_of(key, record)
    return {
        "session": key_prefix(key),
        "user_id": record.user_id,
        "user": users.name(record.user_id),
        "state": _state(record, now),
        "created": iso(device.created_at.timestamp()),
        "last_seen": iso(device.last_seen.timestamp()),
        "expires": iso(record.expires_at),
        "absolute_expires": iso(record.absolute_expires_at),
        "ip": device.ip,
        "user_agent": device.user_agent,
        "keys": sorted(k for k in record.data if not k.startswith(RESERVED_PREFIX)),
    }


def find_session(store: Store, prefix: str) -> tuple[SessionKey, Record]:
    """The one session whose key starts with ``prefix`` (at least 8 hex digits)."""
    prefix = prefix.lower()
    if len(prefix) < 8 or any(c not in "0123456789abcdef" for c in prefix):
        raise ConfigError("a session is named by at least 8 hex digits of its key (see `list`)")
    if len(prefix) == 64:
        record = store.load(SessionKey(prefix))
        if record is None:
            raise NoMatch(f"no session matched {prefix[:12]}")
        return SessionKey(prefix), record
    matches: list[tuple[SessionKey, Record]] = []
    cursor = None
    scanner = iterating(store, "store")
    while True:
        page, cursor = scanner.scan(cursor, 1000)
        matches.extend((k, r) for k, r in page if k.startswith(prefix) and is_session_key(k))
        if cursor is None:
            break
    if not matches:
        raise NoMatch(f"no session matched {prefix}")
    if len({k for k, _ in matches}) > 1:
        raise ConfigError(f"{len(matches)} sessions match {prefix}: give more digits")
    return matches[0]


def run_list(args: argparse.Namespace, store: Store, users: Users) -> int:
    """``list USER``: the user's live sessions."""
    now = time.time()
    user_id = users.resolve(args.user)
    sessions = live_sessions(indexed(store), user_id, now)
    if args.json:
        rows = [session_summary(k, r, users, now) for k, r in sessions]
        emit_json({"command": "list", "user": args.user, "user_id": user_id, "sessions": rows})
    elif sessions:
        headers = ("session", "created", "last seen", "expires", "ip", "user agent")
        lines = []
        for key, record in sessions:
            device = device_of(key, record)
            lines.append(
                [
                    key_prefix(key),
                    when(device.created_at.timestamp()),
                    when(device.last_seen.timestamp()),
                    when(record.expires_at),
                    device.ip,
                    device.user_agent,
                ]
            )
        print(table(headers, lines))
        print(f"{len(sessions)} live sessions for {args.user!r}")
    if not sessions:
        raise NoMatch(f"no live sessions matched user {args.user!r}{users.hint}")
    return 0


def run_show(args: argparse.Namespace, store: Store, users: Users) -> int:
    """``show HASH-PREFIX``: one session's metadata (and data with ``--data``)."""
    key, record = find_session(store, args.session)
    summary = session_summary(key, record, users, time.time())
    if args.data:
        summary["data"] = {
            k: v for k, v in record.data.items() if not k.startswith(RESERVED_PREFIX)
        }
    if args.json:
        emit_json({"command": "show", **summary})
        return 0
    for name, value in summary.items():
        if isinstance(value, list):
            value = ", ".join(value) or "(none)"
        print(f"{name.replace('_', ' ') + ':':18} {value if value is not None else '-'}")
    return 0


def run_revoke(args: argparse.Namespace, store: Store, users: Users) -> int:
    """``revoke USER`` or ``revoke --session HASH-PREFIX``."""
    now = time.time()
    if args.session:
        key, record = find_session(store, args.session)
        if _state(record, now) != "live" or not revoke(store, key, record, now):
            raise NoMatch(f"session {key_prefix(key)} is not live ({_state(record, now)})")
        count, what = 1, f"session {key_prefix(key)}"
    elif args.user:
        user_id = users.resolve(args.user)
        count, what = revoke_user(indexed(store), user_id, now), f"user {args.user!r}"
    else:
        raise ConfigError("name a user (revoke USER) or a session (revoke --session PREFIX)")
    if args.json:
        emit_json({"command": "revoke", "target": what, "revoked": count})
    if not count:
        hint = users.hint if args.user else ""
        raise NoMatch(f"no live sessions matched {what}: nothing revoked{hint}")
    if not args.json:
        print(f"revoked {count} sessions of {what}" if args.user else f"revoked {what}")
    return 0


def run_purge(args: argparse.Namespace, store: Store) -> int:
    """``purge``: delete expired records in bounded batches."""
    if not isinstance(store, Purging):
        print(f"the {type(store).__name__} expires records by itself: nothing to purge")
        return 0
    progress = Progress("expired records purged", sys.stderr)
    total = 0
    while True:
        removed = store.purge_expired(time.time(), limit=args.batch)
        total += removed
        progress.update(total)
        if removed < args.batch:
            break
    progress.finish()
    if args.json:
        emit_json({"command": "purge", "purged": total})
    else:
        print(f"purged {total} expired sessions")
    return 0


def run_stats(args: argparse.Namespace, url: str, store: Store, users: Users) -> int:
    """``stats``: counts over every record (one scan)."""
    now = time.time()
    states: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    per_user: Counter[str] = Counter()
    cursor = None
    scanner = iterating(store, "store")
    while True:
        page, cursor = scanner.scan(cursor, 1000)
        for key, record in page:
            kind = kind_of(key)
            if kind != "session":
                kinds[kind] += 1
                continue
            state = _state(record, now)
            states[state] += 1
            if state == "live":
                states["authenticated" if record.user_id else "anonymous"] += 1
                if record.user_id:
                    per_user[record.user_id] += 1
        if cursor is None:
            break
    top = [
        {"user_id": u, "user": users.name(u), "sessions": n}
        for u, n in per_user.most_common(args.top)
    ]
    document = {
        "command": "stats",
        "live": states["live"],
        "authenticated": states["authenticated"],
        "anonymous": states["anonymous"],
        "revoked": states["revoked"],
        "expired_not_purged": states["expired"],
        "users": len(per_user),
        "top_users": top,
        "other_records": dict(sorted(kinds.items())),
        "store_bytes": store_bytes(url),
    }
    if args.json:
        emit_json(document)
        return 0
    for name in ("live", "authenticated", "anonymous", "revoked", "expired_not_purged", "users"):
        print(f"{name.replace('_', ' ') + ':':22} {document[name]:,}")
    for kind, count in sorted(kinds.items()):
        print(f"{kind + ' records:':22} {count:,}")
    if document["store_bytes"] is not None:
        print(f"{'store size:':22} {document['store_bytes']:,} bytes")
    if top:
        print()
        print(table(("user", "live sessions"), [[t["user"], t["sessions"]] for t in top]))
    return 0


def store_bytes(url: str) -> int | None:
    """The store's size on disk where it can tell (SQLite, file), else None."""
    kind = scheme(url, what="store", example="'sqlite:///sessions.db'")
    if kind == "sqlite":
        path = Path(sqlite_path(url))
        return sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.is_file())
    if kind == "file":
        return sum(p.stat().st_size for p in Path(local_path(url)).rglob("*") if p.is_file())
    return None
