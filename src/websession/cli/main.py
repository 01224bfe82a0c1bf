"""The ``websession`` command: the parser and the dispatch to each command's module."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version

from websession.cli import admin, check, migrate
from websession.cli.stores import DEFAULT_STORE, open_cli_store, open_users
from websession.errors import WebsessionError
from websession.stores.base import Schema

__all__ = ["main"]

DESCRIPTION = """\
Operate websession's session stores: inspect, revoke, purge, migrate, check.

Every store command takes --store URL (default: $WEBSESSION_STORE, else
sqlite:///sessions.db), e.g. sqlite:///sessions.db (a relative path; four
slashes for an absolute one: sqlite:////var/lib/app/sessions.db),
redis://host:6379/0, postgresql://user@host/db. Commands that only read refuse a store that does not
exist rather than creating an empty one.

Environment:
  WEBSESSION_STORE    the session store URL (--store)
  WEBSESSION_USERS    the auth layer's user store URL (--users): lets list and
                      revoke take user names rather than internal user ids
  WEBSESSION_SECRET   the cookie signing secret apps and the demo read
                      (see rotate-secret)

Exit status: 0 done, 1 nothing matched or verification failed, 2 usage or store
error, 130 interrupted (migrate resumes when run again)."""


def _version() -> str:
    try:
        return version("websession")
    except PackageNotFoundError:  # pragma: no cover - a source checkout
        return "unknown"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="websession",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"websession {_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    store_default = os.environ.get("WEBSESSION_STORE", DEFAULT_STORE)

    def command(
        name: str, summary: str, details: str = "", *, aliases: Sequence[str] = ()
    ) -> argparse.ArgumentParser:
        sub = commands.add_parser(
            name,
            help=summary,
            description=f"{summary}.\n\n{details}".strip(),
            aliases=list(aliases),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        sub.add_argument(
            "--store",
            default=store_default,
            metavar="URL",
            help="session store URL (default: $WEBSESSION_STORE or %(default)s)",
        )
        return sub

    def with_json(sub: argparse.ArgumentParser) -> argparse.ArgumentParser:
        sub.add_argument(
            "--json",
            action="store_true",
            help="print one JSON object (schema in docs/operations.md)",
        )
        return sub

    def with_users(sub: argparse.ArgumentParser) -> argparse.ArgumentParser:
        sub.add_argument(
            "--users",
            metavar="URL",
            default=None,
            help="the auth user store URL, to accept user names "
            "(default: $WEBSESSION_USERS; without one USER is a user id)",
        )
        return sub

    stats = with_users(
        with_json(
            command(
                "stats",
                "count sessions: live, authenticated, anonymous, revoked, expired",
                "Reads every record once (the store's scan). Expired-but-not-purged records are\n"
                "what `purge` would delete; other records are rate limits and cookie revocations.",
            )
        )
    )
    stats.add_argument(
        "--top",
        type=int,
        default=10,
        metavar="N",
        help="show the N users with most sessions (default: %(default)s)",
    )

    listing = with_users(
        with_json(
            command(
                "list",
                "list a user's live sessions (metadata only)",
                "Live means not expired and not revoked. Exits 1 when the user has none.",
            )
        )
    )
    listing.add_argument("user", metavar="USER", help="user name (with a user store) or user id")

    show = with_users(
        with_json(
            command(
                "show",
                "show one session's metadata (no values unless --data)",
                "SESSION is at least 8 hex digits of its key, as `list` prints them.",
            )
        )
    )
    show.add_argument("session", metavar="SESSION", help="the session's key prefix")
    show.add_argument(
        "--data",
        action="store_true",
        help="include the session's data values (never reserved ones)",
    )

    revoke = with_users(
        with_json(
            command(
                "revoke",
                "revoke a user's live sessions, or one session",
                "Revoked sessions are kept, marked, until their deadline: a replay of the cookie\n"
                "is told session_revoked, as after the auth layer's logout_user. Exits 1 when\n"
                "nothing matched.",
                aliases=["revoke-user"],
            )
        )
    )
    revoke.add_argument(
        "user", metavar="USER", nargs="?", help="user name (with a user store) or user id"
    )
    revoke.add_argument("--session", metavar="PREFIX", help="revoke one session by key prefix")

    purge = with_json(
        command(
            "purge",
            "delete expired records, in bounded batches",
            "Needed by stores that do not expire records by themselves (SQLite, file,\n"
            "PostgreSQL): run it from cron. Redis expires records on its own.",
        )
    )
    purge.add_argument(
        "--batch",
        type=int,
        default=1000,
        metavar="N",
        help="records per batch (default: %(default)s)",
    )

    migrate_cmd = with_json(
        commands.add_parser(
            "migrate",
            help="copy every live record from one store to another",
            description="Copy every live session (data, deadlines, user, revoked marker) and\n"
            "every non-session record from one store to another; users stay logged in.\n"
            "Resumable: after Ctrl-C or a crash, run the same command again. Never\n"
            "overwrites a record the target already has. See docs/operations.md for the\n"
            "zero-downtime path through a dual:// store.",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
    )
    migrate_cmd.add_argument(
        "--from", dest="source", required=True, metavar="URL", help="the store to copy from"
    )
    migrate_cmd.add_argument(
        "--to",
        dest="target",
        required=True,
        metavar="URL",
        help="the store to copy to (created if missing)",
    )
    migrate_cmd.add_argument(
        "--batch",
        type=int,
        default=500,
        metavar="N",
        help="records per batch (default: %(default)s)",
    )
    migrate_cmd.add_argument(
        "--state",
        metavar="PATH",
        help="where to keep the resume state (default: beside an SQLite "
        "or file target, else the current directory)",
    )
    migrate_cmd.add_argument(
        "--dry-run", action="store_true", help="count what would be copied; write nothing"
    )
    migrate_cmd.add_argument(
        "--restart", action="store_true", help="ignore a saved state and start from the beginning"
    )
    migrate_cmd.add_argument(
        "--no-verify", action="store_true", help="skip counting both stores at the end"
    )

    with_json(command("check", "connect, verify the schema, report server version and latency"))

    rotate = commands.add_parser(
        "rotate-secret",
        help="print how to rotate the cookie signing secret",
        description="Print a new secret, the configuration change, and what happens to\n"
        "existing cookies. Changes nothing by itself.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    with_json(rotate)

    setup = command("setup", "create the store's tables or directory if missing")
    setup.add_argument(
        "--sql", action="store_true", help="print the SQL instead of running it (PostgreSQL)"
    )

    demo = command("demo", "serve the demo app (needs the 'demo' extra)")
    demo.add_argument("--host", default="127.0.0.1", help="address (default: %(default)s)")
    demo.add_argument("--port", type=int, default=8000, help="port (default: %(default)s)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    args = _parser().parse_args(argv)
    try:
        return _dispatch(args)
    except admin.NoMatch as exc:
        print(f"websession: {exc}", file=sys.stderr)
        return 1
    except WebsessionError as exc:
        print(f"websession: {exc}", file=sys.stderr)
        return 2


def _dispatch(args: argparse.Namespace) -> int:
    command: str = args.command
    if command == "demo":
        from websession.cli.demo import serve_demo

        serve_demo(store=args.store, host=args.host, port=args.port)
        return 0
    if command == "migrate":
        return migrate.run(args)
    if command == "rotate-secret":
        return check.run_rotate_secret(args)
    if command == "check":
        return check.run_check(args)
    if command == "setup":
        return _print_schema(args.store) if args.sql else _setup(args.store)
    store = open_cli_store(args.store)
    try:
        if command == "purge":
            return admin.run_purge(args, store)
        users = open_users(args.users)
        try:
            if command == "stats":
                return admin.run_stats(args, args.store, store, users)
            if command == "list":
                return admin.run_list(args, store, users)
            if command == "show":
                return admin.run_show(args, store, users)
            return admin.run_revoke(args, store, users)
        finally:
            users.close()
    finally:
        store.close()


def _setup(url: str) -> int:
    store = open_cli_store(url, write=True)
    try:
        if isinstance(store, Schema):
            store.setup()
        print(f"the {type(store).__name__} is ready")
    finally:
        store.close()
    return 0


def _print_schema(url: str) -> int:
    if url.split("://", 1)[0].lower() not in ("postgresql", "postgres"):
        print("websession: --sql is for postgresql:// stores", file=sys.stderr)
        return 2
    from websession.stores.postgres import parse_url, schema_statements

    for statement in schema_statements(parse_url(url).table):
        print(f"{statement};")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
