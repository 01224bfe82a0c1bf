"""``websession``: run the demo, set up a store, and list, revoke and purge sessions.

``revoke-user`` does what the auth layer's ``logout_user`` does (one shared function):
each live session of the user is marked revoked and kept until its deadline, so a
replay is told ``session_revoked``. ``list`` and ``revoke-user`` need the store's
per-user index (``UserIndex``); ``purge`` runs where the store has ``Purging`` (Redis
expires records by itself); ``setup`` creates tables where the store has ``Schema``.

Every command takes ``--store URL`` (default: ``$WEBSESSION_STORE`` or
``sqlite:///sessions.db``).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime

from websession.auth._sync.revocation import IndexedStore, live_sessions, revoke_user
from websession.errors import WebsessionError
from websession.stores import open_store
from websession.stores.base import Purging, Schema, Store

__all__ = ["main"]

DEFAULT_STORE = "sqlite:///sessions.db"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="websession", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    def with_store(sub: argparse.ArgumentParser) -> argparse.ArgumentParser:
        sub.add_argument(
            "--store",
            default=os.environ.get("WEBSESSION_STORE", DEFAULT_STORE),
            help="store URL (default: $WEBSESSION_STORE or %(default)s)",
        )
        return sub

    demo = with_store(commands.add_parser("demo", help="serve the demo app"))
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8000)

    setup = with_store(
        commands.add_parser("setup", help="create the store's tables (PostgreSQL) if missing")
    )
    setup.add_argument(
        "--sql", action="store_true", help="print the SQL instead of running it (PostgreSQL, MySQL)"
    )

    purge = with_store(commands.add_parser("purge", help="delete expired sessions"))
    purge.add_argument("--batch", type=int, default=1000, help="rows per batch")

    listing = with_store(commands.add_parser("list", help="list a user's live sessions"))
    listing.add_argument("user")

    revoke = with_store(
        commands.add_parser("revoke-user", help="revoke every live session of a user")
    )
    revoke.add_argument("user")
    return parser


def _when(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "demo":
            from websession.demo.app import serve

            serve(store=args.store, host=args.host, port=args.port)
            return 0
        if args.command == "setup" and args.sql:
            return _print_schema(args.store)
        store = open_store(args.store)
        try:
            return _run(args, store)
        finally:
            store.close()
    except WebsessionError as exc:
        print(f"websession: {exc}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace, store: Store) -> int:
    """One store command; the store's abilities decide what it can do."""
    name = type(store).__name__
    if args.command == "setup":
        if isinstance(store, Schema):
            store.setup()
        print(f"the {name} is ready")
    elif args.command == "purge":
        if not isinstance(store, Purging):
            print(f"the {name} expires records by itself: nothing to purge")
            return 0
        total = 0
        while True:
            removed = store.purge_expired(time.time(), limit=args.batch)
            total += removed
            if removed < args.batch:
                break
        print(f"purged {total} expired sessions")
    elif not isinstance(store, IndexedStore):
        print(f"websession: the {name} has no per-user index (UserIndex)", file=sys.stderr)
        return 2
    elif args.command == "list":
        sessions = live_sessions(store, args.user, time.time())
        for key, record in sessions:
            print(
                f"{key[:12]}…  created {_when(record.created_at)}  "
                f"last seen {_when(record.last_seen)}  "
                f"expires {_when(record.expires_at)}"
            )
        print(f"{len(sessions)} live sessions for {args.user!r}")
    else:
        count = revoke_user(store, args.user, time.time())
        print(f"revoked {count} sessions of {args.user!r}")
    return 0


def _print_schema(url: str) -> int:
    kind = url.split("://", 1)[0].lower()
    if kind in ("mysql", "mariadb"):
        from websession.stores import mysql

        for statement in mysql.schema_statements(mysql.parse_url(url).table):
            print(f"{statement};")
        return 0
    if kind not in ("postgresql", "postgres"):
        print("websession: --sql is for postgresql:// and mysql:// stores", file=sys.stderr)
        return 2
    from websession.stores.postgres import parse_url, schema_statements

    for statement in schema_statements(parse_url(url).table):
        print(f"{statement};")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
