"""``websession migrate``: copy every record from one store to another, resumably.

The source is read page by page with its ``Iterating`` ability (``scan``); each record
still within its deadlines (sessions, revoked ones included so a replay is still told
``session_revoked``, and non-session records such as rate limits and cookie
revocations) is written to the target with ``create``, which never overwrites. So a
repeated or resumed run duplicates nothing and never clobbers a record the app has
written to the target meanwhile (through the ``dual://`` store). Records keep their
keys (the token's hash), so every cookie works against the target.

After each batch the scan cursor and the counts are saved to a small JSON state file
(written atomically); after Ctrl-C or a crash the same command resumes from the last
saved cursor (the batch in flight is read again; ``create`` skips what it copied).
The file holds fingerprints of the two URLs, never the URLs (they may hold passwords),
and is removed when the migration completes. At the end both stores are counted: the
target must hold at least the source's live records.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from websession.cli.output import emit_json
from websession.cli.progress import Progress
from websession.cli.stores import open_cli_store
from websession.core.lifecycle import Lifecycle
from websession.errors import ConfigError
from websession.stores.base import Iterating, Schema, Store, is_session_key
from websession.stores.url import local_path, scheme, sqlite_path
from websession.types import Record

__all__ = [
    "MigrationState",
    "copy_batches",
    "count_live",
    "fingerprint",
    "kind_of",
    "load_state",
    "run",
    "save_state",
    "state_path",
]

_STATE_VERSION = 1


def fingerprint(url: str) -> str:
    """A short hash naming a store URL without revealing it."""
    return hashlib.sha256(url.encode()).hexdigest()[:16]


def kind_of(key: str) -> str:
    """``session`` for a session key, else the record's namespace (``ratelimit`` …)."""
    return "session" if is_session_key(key) else key.split(".", 1)[0]


@dataclass
class MigrationState:
    """Where a migration is, saved after every batch."""

    source: str
    """``fingerprint`` of the source URL."""
    target: str
    """``fingerprint`` of the target URL."""
    cursor: str | None = None
    """The scan cursor of the next batch (None: from the start)."""
    read: int = 0
    """Records read from the source, expired ones included."""
    copied: int = 0
    """Records created in the target."""
    present: int = 0
    """Live records the target already had (an earlier run, or the app through dual)."""
    expired: int = 0
    """Records past their deadlines, not copied."""
    kinds: dict[str, int] = field(default_factory=dict)
    """Live records by kind: ``session`` or a record namespace."""
    done: bool = False
    """The scan reached its end."""

    @property
    def live(self) -> int:
        """Live records seen in the source."""
        return self.copied + self.present


def state_path(source: str, target: str, given: str | None) -> Path:
    """The state file: ``given``, else beside an SQLite or file target, else in the
    current directory; named after both URLs' fingerprint."""
    if given:
        return Path(given)
    name = f".websession-migrate-{fingerprint(source + chr(10) + target)}.json"
    kind = scheme(target, what="store", example="'sqlite:///sessions.db'")
    if kind == "sqlite":
        return Path(sqlite_path(target)).parent / name
    if kind == "file":
        return Path(local_path(target)).parent / name
    return Path(name)


def load_state(path: Path, source: str, target: str) -> MigrationState | None:
    """The saved state at ``path`` for this source and target, None if there is none;
    ConfigError if it belongs to another migration or cannot be read."""
    try:
        raw = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read the migration state {str(path)!r}: {exc}") from exc
    if not isinstance(raw, dict) or raw.pop("version", None) != _STATE_VERSION:
        raise ConfigError(f"{str(path)!r} is not a websession migration state file")
    state = MigrationState(**raw)
    if (state.source, state.target) != (fingerprint(source), fingerprint(target)):
        raise ConfigError(
            f"the state file {str(path)!r} belongs to a migration between other stores: "
            "pass --state PATH, or --restart to start over"
        )
    return state


def save_state(path: Path, state: MigrationState) -> None:
    """Write ``state`` to ``path`` atomically (a crash leaves the old or the new one)."""
    temporary = path.with_name(path.name + ".tmp")
    with temporary.open("w", encoding="utf-8") as out:
        json.dump({"version": _STATE_VERSION, **asdict(state)}, out)
        out.flush()
        os.fsync(out.fileno())
    temporary.replace(path)


def iterating(store: Store, role: str) -> Iterating:
    """``store`` as ``Iterating``; ConfigError if it cannot be read page by page."""
    if not isinstance(store, Iterating):
        raise ConfigError(
            f"the {role} ({type(store).__name__}) cannot list its records (the Iterating "
            "ability, scan): it cannot be migrated from"
        )
    return store


def _live(record: Record, now: float) -> bool:
    return Lifecycle.within_deadlines(record, now)


def copy_batches(
    source: Iterating,
    target: Store | None,
    state: MigrationState,
    *,
    batch: int,
    now: float,
) -> MigrationState:
    """Copy one batch from ``state.cursor`` into ``target`` (None: count only, a dry
    run) and advance ``state``; call again until ``state.done``."""
    page, cursor = source.scan(state.cursor, batch)
    for key, record in page:
        state.read += 1
        if not _live(record, now):
            state.expired += 1
            continue
        kind = kind_of(key)
        state.kinds[kind] = state.kinds.get(kind, 0) + 1
        if target is None or target.create(key, record):
            state.copied += 1
        else:
            state.present += 1
    state.cursor = cursor
    state.done = cursor is None
    return state


def count_live(store: Iterating, now: float, *, batch: int = 1000) -> int:
    """How many records of ``store`` are within their deadlines at ``now``."""
    total, cursor = 0, None
    while True:
        page, cursor = store.scan(cursor, batch)
        total += sum(1 for _, record in page if _live(record, now))
        if cursor is None:
            return total


def elapsed_since(started: float) -> float:
    """Seconds since ``started`` (``time.monotonic``)."""
    return time.monotonic() - started


def run(args: argparse.Namespace) -> int:
    """The ``migrate`` command; return the exit status."""
    started = time.monotonic()
    now = time.time()
    path = None if args.dry_run else state_path(args.source, args.target, args.state)
    source_store = open_cli_store(args.source)
    target: Store | None = None
    try:
        source = iterating(source_store, "source")
        state = None
        if path is not None and not args.restart:
            state = load_state(path, args.source, args.target)
        resumed = state is not None and state.read > 0
        state = state or MigrationState(fingerprint(args.source), fingerprint(args.target))
        if not args.dry_run:
            target = open_cli_store(args.target, write=True)
            if isinstance(target, Schema):
                target.setup()
        quiet = args.json
        progress = Progress("records", sys.stderr, start=state.read)
        if progress.tty and not quiet:
            print("counting the source's records (for the ETA)...", file=sys.stderr)
            progress.total = count_live(source, now, batch=max(args.batch, 1000))
        if resumed and not quiet:
            print(f"resuming from {path} ({state.read:,} records already read)", file=sys.stderr)
        try:
            while not state.done:
                copy_batches(source, target, state, batch=args.batch, now=now)
                if path is not None:
                    save_state(path, state)
                if not quiet:
                    progress.update(state.read)
        except KeyboardInterrupt:
            if not quiet:
                progress.finish()
            print(
                f"interrupted after {state.read:,} records; run the same command again to "
                f"resume (state in {path})",
                file=sys.stderr,
            )
            return 130
        if not quiet:
            progress.finish()
        target_live = None
        if target is not None and not args.no_verify:
            target_live = count_live(iterating(target, "target"), time.time())
            source_live = count_live(source, time.time())
        else:
            source_live = state.live
        verified = None if target_live is None else target_live >= source_live
        if path is not None and verified is not False:
            path.unlink(missing_ok=True)
        _report(args, state, source_live, target_live, verified, time.monotonic() - started)
        return 1 if verified is False else 0
    finally:
        source_store.close()
        if target is not None:
            target.close()


def _report(
    args: argparse.Namespace,
    state: MigrationState,
    source_live: int,
    target_live: int | None,
    verified: bool | None,
    seconds: float,
) -> None:
    if args.json:
        emit_json(
            {
                "command": "migrate",
                "dry_run": args.dry_run,
                "read": state.read,
                "copied": state.copied,
                "already_present": state.present,
                "skipped_expired": state.expired,
                "kinds": state.kinds,
                "source_live": source_live,
                "target_live": target_live,
                "verified": verified,
                "seconds": round(seconds, 3),
            }
        )
        return
    kinds = (
        ", ".join(
            f"{n:,} {'sessions' if k == 'session' else k + ' records'}"
            for k, n in sorted(state.kinds.items())
        )
        or "nothing"
    )
    if args.dry_run:
        print(
            f"dry run: would copy {state.live:,} live records ({kinds}); "
            f"{state.expired:,} expired records would be skipped"
        )
        return
    print(
        f"copied {state.copied:,} records ({kinds}); {state.present:,} were already there; "
        f"{state.expired:,} expired records skipped"
    )
    if verified is None:
        return
    counts = f"source {source_live:,} live records, target {target_live:,}"
    if verified:
        print(f"verified: {counts}")
    else:
        print(f"websession: verification failed: {counts}", file=sys.stderr)
