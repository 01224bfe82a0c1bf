"""``python -m bench``: every subject, every case, one run; report to bench/results/.

Needs the servers of ``scripts/servers.py`` in the environment for the Redis and
PostgreSQL cases (``scripts/bench.sh`` starts them); a case whose server or module is
missing is skipped with the reason printed.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import os
import socket
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import apps, django_apps, e2e, floors, memory, profiles, readme, targets
from bench.count import (
    CallCounter,
    MysqlCounter,
    NoStore,
    OpCount,
    PostgresCounter,
    RedisCounter,
    SQLiteCounter,
)
from bench.measure import CASES, Prepared, calibrate, prepare, time_all, verify
from bench.names import (
    ASGI_PEERS,
    DJANGO_CACHE,
    DJANGO_DB,
    FLASK_SESSION,
    FLASK_SESSION_NO_REFRESH,
    WS_COOKIE,
    WS_DJANGO_REDIS,
    WS_DJANGO_SQLITE,
    WS_FLASK_REDIS,
    WS_FLASK_REDIS_REFRESH,
    WS_FLASK_SQLITE,
    WS_MEMORY,
    WS_MEMORY_SEALED,
    WS_MYSQL,
    WS_POSTGRES,
    WS_REDIS,
    WS_SQLITE,
    WS_SQLITE_SEALED,
    WSGI_PEERS,
)
from bench.report import Results, render
from websession.errors import WebsessionError

RESULTS = Path(__file__).resolve().parent / "results"
OPS_REQUESTS = 20
PROFILED = {
    WS_MEMORY: "memory",
    WS_SQLITE: "sqlite",
    WS_REDIS: "redis",
    WS_POSTGRES: "postgres",
    WS_FLASK_REDIS: "flask-redis",
}
"""The subjects whose read and write paths are profiled, and their file slugs."""


def _connections(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(",") if part.strip())


def _arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--reps", type=int, default=15, help="interleaved repetitions")
    parser.add_argument("--batch-ms", type=float, default=25.0, help="ms per timed batch")
    parser.add_argument(
        "--e2e-seconds", type=float, default=2.0, help="load per e2e case and concurrency"
    )
    parser.add_argument(
        "--connections",
        type=_connections,
        default=e2e.CONNECTIONS,
        help="e2e concurrency sweep, comma-separated (default 1,8,64)",
    )
    parser.add_argument(
        "--rounds", type=int, default=3, help="interleaved e2e rounds (median taken)"
    )
    parser.add_argument("--no-e2e", action="store_true", help="skip the uvicorn runs")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a rough run in about two minutes: 5 reps, 10 ms batches, one e2e round of 1 s",
    )
    parser.add_argument("--sessions", type=int, default=100_000, help="for the memory test")
    parser.add_argument("--out", type=Path, default=RESULTS, help="results folder")
    parser.add_argument(
        "--readme", type=Path, help="replace the generated performance table of this README"
    )
    args = parser.parse_args(argv)
    if args.e2e_seconds < 1:
        parser.error("--e2e-seconds: at least 1 (wrk runs whole seconds)")
    if args.quick:
        args.reps, args.batch_ms = min(args.reps, 5), min(args.batch_ms, 10.0)
        args.e2e_seconds, args.sessions = min(args.e2e_seconds, 1.0), min(args.sessions, 20_000)
        args.rounds = 1
    return args


def _build_django(skipped: list[str], tmp: Path) -> list[apps.Subject]:
    """websession's Django engine beside Django's db and cache engines (empty without
    Django)."""
    redis_url = apps.env("WEBSESSION_TEST_REDIS_URL")
    try:
        django_apps.configure(tmp, redis_url)
    except ImportError as exc:
        skipped.append(f"Django cases: {exc}")
        return []
    built = [
        django_apps.websession(WS_DJANGO_SQLITE, f"sqlite:///{tmp / 'django.db'}", "sqlite"),
        django_apps.django_db(),
    ]
    if redis_url is not None:
        built.append(django_apps.websession(WS_DJANGO_REDIS, f"{redis_url}?prefix=benchd", "redis"))
        built.append(django_apps.django_cache())
    return built


def _build(skipped: list[str], tmp: Path) -> tuple[list[apps.Subject], list[apps.Subject]]:
    """The subjects this machine can run; the others go to ``skipped`` with a reason."""
    redis_url = apps.env("WEBSESSION_TEST_REDIS_URL")
    postgres_url = apps.env("WEBSESSION_TEST_POSTGRES_URL")
    asgi: list[Callable[[], apps.Subject]] = [
        lambda: apps.websession_asgi(WS_MEMORY, "memory://", "memory"),
        lambda: apps.websession_asgi(WS_SQLITE, f"sqlite:///{tmp / 'asgi.db'}", "sqlite"),
        lambda: apps.websession_asgi(WS_MEMORY_SEALED, "memory://", "memory", sealed=True),
        lambda: apps.websession_asgi(
            WS_SQLITE_SEALED, f"sqlite:///{tmp / 'sealed.db'}", "sqlite", sealed=True
        ),
    ]
    wsgi: list[Callable[[], apps.Subject]] = [
        lambda: apps.websession_flask(WS_FLASK_SQLITE, f"sqlite:///{tmp / 'wsgi.db'}", "sqlite")
    ]
    if redis_url is None:
        skipped.append("Redis cases: WEBSESSION_TEST_REDIS_URL is not set")
    else:
        asgi.append(lambda: apps.websession_asgi(WS_REDIS, f"{redis_url}?prefix=bench", "redis"))
        wsgi += [
            lambda: apps.websession_flask(WS_FLASK_REDIS, f"{redis_url}?prefix=benchf", "redis"),
            lambda: apps.websession_flask(
                WS_FLASK_REDIS_REFRESH, f"{redis_url}?prefix=benchfr", "redis", refresh=True
            ),
        ]
    reason = apps.postgres_available()
    if postgres_url is None:
        skipped.append("PostgreSQL cases: WEBSESSION_TEST_POSTGRES_URL is not set")
    elif reason is not None:
        skipped.append(f"PostgreSQL cases: {reason}")
    else:
        asgi.append(
            lambda: apps.websession_asgi(
                WS_POSTGRES, f"{postgres_url}?table=bench_sessions", "postgres"
            )
        )
    mysql_url = apps.env("WEBSESSION_TEST_MYSQL_URL")
    if mysql_url is None:
        skipped.append("MariaDB cases: WEBSESSION_TEST_MYSQL_URL is not set")
    else:
        asgi.append(
            lambda: apps.websession_asgi(WS_MYSQL, f"{mysql_url}?table=bench_sessions", "mysql")
        )
    reason = apps.cookie_backend_available()
    if reason is not None:
        skipped.append(f"encrypted cookie backend: {reason}")
    else:
        asgi.append(lambda: apps.websession_cookie(WS_COOKIE))
    asgi += [apps.starlette_cookie, apps.starsessions_memory]
    wsgi.append(apps.flask_default)
    if redis_url is not None:
        asgi.append(lambda: apps.starsessions_redis(redis_url))
        wsgi += [
            lambda: apps.flask_session_redis(FLASK_SESSION, redis_url),
            lambda: apps.flask_session_redis(FLASK_SESSION_NO_REFRESH, redis_url, refresh=False),
        ]
    built_asgi: list[apps.Subject] = []
    built_wsgi: list[apps.Subject] = []
    for builders, built in ((asgi, built_asgi), (wsgi, built_wsgi)):
        for build in builders:
            try:
                built.append(build())
            except (ImportError, WebsessionError) as exc:
                skipped.append(f"a subject could not be built: {type(exc).__name__}: {exc}")
    return built_asgi, built_wsgi


def _counter(subject: apps.Subject, redis: RedisCounter | None, pg: PostgresCounter | None) -> Any:
    handle = subject.handle
    if subject.store == "redis":
        return redis
    if subject.store == "postgres":
        return pg
    if subject.store == "mysql":
        return MysqlCounter()
    if subject.store == "django-db":
        return django_apps.QueryCounter()
    if subject.store == "sqlite":
        return SQLiteCounter(getattr(handle, "sync", handle)._db)
    if subject.store == "memory" and subject.peer:
        return CallCounter(handle, ("read", "write", "remove"))
    if subject.store == "memory":
        methods = ("load", "create", "update", "touch", "replace", "delete")
        return CallCounter(getattr(handle, "sync", handle), methods)
    return NoStore()


async def _count_ops(
    prepared: list[Prepared], redis: RedisCounter | None, pg: PostgresCounter | None
) -> dict[tuple[str, str], OpCount]:
    ops: dict[tuple[str, str], OpCount] = {}
    for item in prepared:
        counter = _counter(item.subject, redis, pg)
        for case in CASES:
            driver = item.drivers[case]

            async def run(driver: Any = driver) -> None:
                await driver.run(OPS_REQUESTS)

            ops[(item.subject.name, case)] = await counter.count(run, OPS_REQUESTS)
    return ops


def _servers(redis: RedisCounter | None, postgres_url: str | None) -> dict[str, str]:
    found: dict[str, str] = {}
    if redis is not None:
        found["Redis"] = str(redis.client.info("server")["redis_version"])
    if postgres_url is not None:
        import psycopg

        with psycopg.connect(postgres_url.split("?", 1)[0]) as conn:
            row = conn.execute("SHOW server_version").fetchone()
            found["PostgreSQL"] = str(row[0]) if row else "?"
    mysql_url = apps.env("WEBSESSION_TEST_MYSQL_URL")
    if mysql_url is not None:
        from websession.stores.mysql import parse_url
        from websession.stores.mysql.compat import connect, server_version

        mysql_conn = connect(parse_url(mysql_url))
        found["MariaDB"] = server_version(mysql_conn).split("-", 1)[-1].split("-", 1)[0]
        mysql_conn.close()
    return found


async def _in_process(args: argparse.Namespace, tmp: Path, results_dir: Path) -> dict[str, Any]:
    skipped: list[str] = []
    asgi, wsgi = _build(skipped, tmp)
    dj = _build_django(skipped, tmp)
    bare = {"asgi": await prepare(apps.bare_asgi()), "wsgi": await prepare(apps.bare_flask())}
    if dj:
        bare["django"] = await prepare(django_apps.bare())
    prepared = []
    for subject in [*asgi, *wsgi, *dj]:
        try:
            item = await prepare(subject)
        except WebsessionError as exc:
            skipped.append(f"{subject.name}: {type(exc).__name__}: {exc}")
            continue
        await verify(item)
        prepared.append(item)
    target = args.batch_ms / 1000
    for item in [*bare.values(), *prepared]:
        await calibrate(item, target)
    redis_url = apps.env("WEBSESSION_TEST_REDIS_URL")
    postgres_url = apps.env("WEBSESSION_TEST_POSTGRES_URL")
    floor_list: list[floors.Floor] = floors.sqlite_floors(tmp / "floor.db")
    if redis_url is not None:
        floor_list += await floors.redis_floors(redis_url)
    if postgres_url is not None:
        floor_list += await floors.postgres_floors(postgres_url)
    mysql_url = apps.env("WEBSESSION_TEST_MYSQL_URL")
    if mysql_url is not None:
        floor_list.append(await floors.mysql_floor(mysql_url))
    sized = [(floor, await floors.batch_size(floor, target)) for floor in floor_list]
    print(
        f"bench: timing {len(prepared)} subjects x {len(CASES)} cases, {args.reps} reps", flush=True
    )
    timings = await time_all(prepared, bare, args.reps, sized)
    for item in prepared:  # the cases still do what they claim after thousands of requests
        await verify(item)
    floor_times = {floor.name: timings.median(floor.name, "floor") for floor in floor_list}
    print("bench: counting store operations", flush=True)
    redis_counter = RedisCounter(redis_url) if redis_url is not None else None
    pg_counter = PostgresCounter()
    ops = await _count_ops(prepared, redis_counter, pg_counter)
    servers = _servers(redis_counter, postgres_url)
    print("bench: profiling", flush=True)
    profile_list = []
    for item in prepared:
        slug = PROFILED.get(item.subject.name)
        if slug is not None:
            for case in ("read", "write"):
                path = results_dir / f"profile-{slug}-{case}.txt"
                result = await profiles.profile(item, case, 2000, path)
                profile_list.append((result, str(path.relative_to(results_dir.parent.parent))))
    for item in [*bare.values(), *prepared]:
        await item.subject.close()
    for floor in floor_list:
        for closer in floor.closers:
            outcome = closer()
            if asyncio.iscoroutine(outcome):
                await outcome
    if redis_counter is not None:
        redis_counter.close()
    names = [p.subject.name for p in prepared]
    return {
        "timings": timings,
        "asgi": [n for n in names if n in {s.name for s in asgi} and n not in ASGI_PEERS],
        "wsgi": [n for n in names if n in {s.name for s in wsgi} and n not in WSGI_PEERS],
        "django": [n for n in (WS_DJANGO_SQLITE, WS_DJANGO_REDIS) if n in names],
        "django_peers": [n for n in (DJANGO_DB, DJANGO_CACHE) if n in names],
        "asgi_peers": [n for n in ASGI_PEERS if n in names],
        "wsgi_peers": [n for n in WSGI_PEERS if n in names],
        "bare": {kind: item.subject.name for kind, item in bare.items()},
        "ops": ops,
        "floors": floor_times,
        "skipped": skipped,
        "servers": servers,
        "profiles": profile_list,
        "reps": args.reps,
    }


def _e2e_names() -> list[str]:
    names = ["bare", "starlette", "starsessions-memory", "websession-memory", "websession-sqlite"]
    if apps.env("WEBSESSION_TEST_REDIS_URL"):
        names += ["starsessions-redis", "websession-redis"]
    if apps.env("WEBSESSION_TEST_POSTGRES_URL") and apps.postgres_available() is None:
        names.append("websession-postgres")
    return names


def main(argv: list[str]) -> int:
    """Run everything, write the report, print it."""
    args = _arguments(argv)
    started = time.monotonic()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="websession-bench-") as folder:
        tmp = Path(folder)
        found = asyncio.run(_in_process(args, tmp, args.out))
        print("bench: measuring the memory store", flush=True)
        memory_use = memory.measure(args.sessions)
        rates: list[e2e.Rate] = []
        if args.no_e2e:
            found["skipped"].append("end-to-end runs: --no-e2e")
        else:
            names = _e2e_names()
            points = len(names) * 2 * len(args.connections) * args.rounds
            print(
                f"bench: end to end under uvicorn, {points} loads of {args.e2e_seconds:g} s",
                flush=True,
            )
            cases = {"read": "/read", "write": "/write"}
            rates = e2e.run_all(
                names,
                cases,
                args.e2e_seconds,
                tmp / "e2e.db",
                args.connections,
                found["skipped"],
                args.rounds,
            )
    measured = {
        name
        for kind in ("asgi", "wsgi", "asgi_peers", "wsgi_peers", "django", "django_peers")
        for name in found[kind]
    }
    results = Results(
        targets=targets.issue_targets(found["timings"], measured, rates, args.connections),
        context=targets.context_ratios(found["timings"], measured),
        rates=rates,
        memory=memory_use,
        seconds=time.monotonic() - started,
        connections=args.connections,
        e2e_seconds=args.e2e_seconds,
        command=" ".join(["python -m bench", *argv]),
        **found,
    )
    text = render(results)
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d-%H%M")
    report = args.out / f"bench-{stamp}-{socket.gethostname()}.md"
    report.write_text(text, encoding="utf-8")
    (args.out / "latest.md").write_text(text, encoding="utf-8")
    print(text)
    print(f"bench: report written to {report}")
    if args.readme is not None:
        relative = Path(os.path.relpath(report, args.readme.resolve().parent)).as_posix()
        if readme.update(args.readme, readme.summary(results, relative)):
            print(f"bench: performance table of {args.readme} regenerated")
        else:
            print(f"bench: {args.readme} has no {readme.BEGIN!r} marker; left alone")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
