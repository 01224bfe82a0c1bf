"""Measure ``websession migrate``: records per second and peak memory of the command.

Not part of ``make bench`` (it writes large stores). Usage, with the test servers'
environment (``source .servers/dev/env``)::

    PYTHONPATH=src python -m bench.migration --records 100000 --to postgres redis

Fills an SQLite store in a temporary directory with ``--records`` sessions (about 200
bytes of data each, a third of them with a user), then runs the real command in a
child process per target, and prints copy rate, total time (copy + verification) and
the child's peak RSS. ``--interrupt`` also kills the first run after half the records
and resumes it, checking the target ends with exactly the source's count.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from websession.stores import SQLiteStore
from websession.testing import make_record, new_key

TARGETS = {
    "postgres": "WEBSESSION_TEST_POSTGRES_URL",
    "redis": "WEBSESSION_TEST_REDIS_URL",
    "redis-cluster": "WEBSESSION_TEST_REDIS_CLUSTER_URL",
}


def fill(path: Path, records: int) -> None:
    store = SQLiteStore(path)
    data = {"cart": [f"item-{i}" for i in range(8)], "theme": "dark", "n": 12345.5}
    for i in range(records):
        store.create(
            new_key(), make_record({**data, "i": i}, user_id=f"u{i}" if i % 3 == 0 else None)
        )
    store.close()


def target_url(kind: str) -> str:
    base = os.environ[TARGETS[kind]]
    separator = "&" if "?" in base else "?"
    name = secrets.token_hex(4)
    return (
        f"{base}{separator}table=ws_bench_{name}"
        if kind == "postgres"
        else f"{base}{separator}prefix=bench-{name}"
    )


def run(command: list[str]) -> tuple[dict[str, object], float, float]:
    """Run the command; return its JSON report, wall seconds and peak RSS in MiB."""
    started = time.monotonic()
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    done = subprocess.run(
        command, capture_output=True, check=True, env={**os.environ, "PYTHONPATH": "src"}
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return json.loads(done.stdout), time.monotonic() - started, max(after, before) / 1024


def migrate_command(source: str, target: str, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "websession.cli.main",
        "migrate",
        "--from",
        source,
        "--to",
        target,
        "--json",
        *extra,
    ]


def interrupted(source: str, target: str, records: int, state: Path) -> str:
    command = migrate_command(source, target, "--state", str(state))
    process = subprocess.Popen(
        command,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": "src"},
    )
    while process.poll() is None:
        time.sleep(0.05)
        if state.exists() and json.loads(state.read_text() or "{}").get("read", 0) >= records // 2:
            process.send_signal(signal.SIGKILL)
            break
    process.wait()
    report, _, _ = run(command)
    return (
        f"killed at half and resumed: {report['copied']:,} copied over both runs, "
        f"{report['already_present']:,} re-read from the batch in flight; target "
        f"{report['target_live']:,} live records, source {report['source_live']:,}, "
        f"verified {report['verified']}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--to", nargs="+", default=["postgres", "redis"], choices=sorted(TARGETS))
    parser.add_argument("--interrupt", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "source.db"
        started = time.monotonic()
        fill(path, args.records)
        print(f"filled {args.records:,} records in {time.monotonic() - started:.1f}s")
        source = f"sqlite:///{path}"
        for kind in args.to:
            target = target_url(kind)
            state = str(Path(folder) / "state.json")
            report, seconds, rss = run(
                migrate_command(source, target, "--no-verify", "--state", state)
            )
            copy_rate = args.records / seconds
            print(
                f"sqlite -> {kind}: {report['copied']:,} records in {seconds:.1f}s "
                f"({copy_rate:,.0f} records/s), peak RSS {rss:.0f} MiB"
            )
            report, seconds, rss = run(migrate_command(source, target, "--state", state))
            print(
                f"  repeat with verification: copied {report['copied']}, "
                f"{report['already_present']:,} already there, verified {report['verified']} "
                f"in {seconds:.1f}s"
            )
            if args.interrupt:
                again = target_url(kind)
                state_path = Path(folder) / f"{kind}.state"
                print("  " + interrupted(source, again, args.records, state_path))
                cleanup(kind, again)
            cleanup(kind, target)


def cleanup(kind: str, url: str) -> None:
    """Drop the target's table or keys, so repeated runs do not fill the servers."""
    if kind == "postgres":
        import psycopg

        from websession.stores.url import parse_postgres_url

        options = parse_postgres_url(url, table="unused")
        with psycopg.connect(options.conninfo, autocommit=True) as db:
            db.execute(f"DROP TABLE IF EXISTS {options.table}")  # checked name
        return
    import redis

    from websession.stores.redis.options import parse_url

    redis_options = parse_url(url)
    if redis_options.cluster:
        return
    host, port = redis_options.hosts[0]
    with redis.Redis(host=host, port=port, db=redis_options.db) as client:
        batch = []
        for key in client.scan_iter(match=f"{redis_options.prefix}*", count=1000):
            batch.append(key)
            if len(batch) == 1000:
                client.unlink(*batch)
                batch.clear()
        if batch:
            client.unlink(*batch)


if __name__ == "__main__":
    main()
