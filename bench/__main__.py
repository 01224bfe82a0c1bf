"""``python -m bench``: every subject, every case, one run; report to bench/results/.

Needs the servers of ``scripts/servers.py`` in the environment for the Redis and
PostgreSQL cases (``scripts/bench.sh`` starts them); a case whose server or module is
missing is skipped with the reason printed.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import socket
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import apps, django_apps, e2e, floors, memory, profiles
from bench.count import (
    CallCounter,
    MysqlCounter,
    NoStore,
    OpCount,
    PostgresCounter,
    RedisCounter,
    SQLiteCounter,
)
from bench.measure import CASES, Prepared, Timings, calibrate, prepare, time_all, verify
from bench.report import Results, Target, render
from websession.errors import WebsessionError

RESULTS = Path(__file__).resolve().parent / "results"
OPS_REQUESTS = 20

WS_MEMORY, WS_SQLITE, WS_REDIS = "websession memory", "websession SQLite", "websession Redis"
WS_POSTGRES, WS_COOKIE = "websession PostgreSQL", "websession cookie"
WS_MYSQL = "websession MariaDB"
WS_FLASK_SQLITE, WS_FLASK_REDIS = "websession/Flask SQLite", "websession/Flask Redis"
STARLETTE, SS_MEMORY, SS_REDIS = (
    "Starlette SessionMiddleware",
    "starsessions memory",
    "starsessions Redis",
)
FLASK_DEFAULT, FLASK_SESSION = "Flask default session", "Flask-Session Redis"
WS_DJANGO_SQLITE, WS_DJANGO_REDIS = "websession/Django SQLite", "websession/Django Redis"
DJANGO_DB, DJANGO_CACHE = "Django db (SQLite)", "Django cache (Redis)"
WS_MEMORY_SEALED = "websession memory, encrypt_at_rest"
WS_SQLITE_SEALED = "websession SQLite, encrypt_at_rest"


def _arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--reps", type=int, default=15, help="interleaved repetitions")
    parser.add_argument("--batch-ms", type=float, default=25.0, help="ms per timed batch")
    parser.add_argument("--e2e-seconds", type=float, default=5.0, help="load per e2e case")
    parser.add_argument("--no-e2e", action="store_true", help="skip the uvicorn runs")
    parser.add_argument("--sessions", type=int, default=100_000, help="for the memory test")
    parser.add_argument("--out", type=Path, default=RESULTS, help="results folder")
    return parser.parse_args(argv)


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
        wsgi.append(
            lambda: apps.websession_flask(WS_FLASK_REDIS, f"{redis_url}?prefix=benchf", "redis")
        )
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
        wsgi.append(lambda: apps.flask_session_redis(redis_url))
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


def _targets(
    t: Timings, names: set[str], floor: dict[str, float], rates: list[e2e.Rate]
) -> list[Target]:
    def over(name: str, case: str) -> float | None:
        return t.median_overhead(name, case) if name in names else None

    def ratio(a: float | None, b: float | None) -> float | None:
        return None if a is None or b is None or b <= 0 else a / b

    targets = []
    for store in (WS_MEMORY, WS_SQLITE, WS_REDIS):
        targets.append(
            Target(
                f"untouched overhead, {store} / Starlette",
                ratio(over(store, "untouched"), over(STARLETTE, "untouched")),
                0.5,
            )
        )
    for store in (WS_MEMORY, WS_SQLITE):
        for case in ("read", "write"):
            for peer in (STARLETTE, SS_MEMORY):
                targets.append(
                    Target(
                        f"{case} overhead, {store} / {peer}",
                        ratio(over(store, case), over(peer, case)),
                        0.5,
                    )
                )
    get = floor.get("redis-py GET")
    pipelined = floor.get("redis-py pipelined write (HSET+PEXPIREAT)")
    read, write = over(WS_REDIS, "read"), over(WS_REDIS, "write")
    targets.append(Target("Redis read overhead / raw GET", ratio(read, get), 1.15))
    targets.append(
        Target(
            "Redis write: (write - read overhead) / raw pipelined write",
            ratio(None if write is None or read is None else write - read, pipelined),
            1.15,
            note="the write's own round trip",
        )
    )
    for case in ("read", "write"):
        targets.append(
            Target(
                f"{case}: starsessions Redis / websession Redis overhead",
                ratio(over(SS_REDIS, case), over(WS_REDIS, case)),
                3.0,
                at_most=False,
            )
        )
    targets.append(
        Target(
            "PostgreSQL read overhead / raw psycopg PK SELECT",
            ratio(over(WS_POSTGRES, "read"), floor.get("psycopg SELECT by primary key")),
            1.2,
        )
    )
    targets.append(
        Target(
            "MariaDB read overhead / raw aiomysql PK SELECT",
            ratio(over(WS_MYSQL, "read"), floor.get("aiomysql SELECT by primary key")),
            1.2,
        )
    )
    for case in ("read", "write"):
        targets.append(
            Target(
                f"Flask {case}: websession Redis / Flask-Session Redis overhead",
                ratio(over(WS_FLASK_REDIS, case), over(FLASK_SESSION, case)),
                0.4,
            )
        )
    bare = {r.case: r.rps for r in rates if r.subject == "bare"}
    for subject, goal in (("websession-sqlite", 0.85), ("websession-redis", 0.6)):
        for case in ("read", "write"):
            rps = next((r.rps for r in rates if r.subject == subject and r.case == case), None)
            targets.append(
                Target(
                    f"e2e {case}: {subject} rps / bare rps",
                    ratio(rps, bare.get(case)),
                    goal,
                    at_most=False,
                )
            )
    return targets


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
    floor_list: list[floors.Floor] = [floors.sqlite_floor(tmp / "floor.db")]
    if redis_url is not None:
        floor_list += await floors.redis_floors(redis_url)
    if postgres_url is not None:
        floor_list.append(await floors.postgres_floor(postgres_url))
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
        if item.subject.name in (WS_SQLITE, WS_REDIS):
            for case in ("read", "write"):
                slug = item.subject.store + "-" + case
                path = results_dir / f"profile-{slug}.txt"
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
        "asgi": [
            n
            for n in names
            if n in {s.name for s in asgi} and n not in (STARLETTE, SS_MEMORY, SS_REDIS)
        ],
        "wsgi": [
            n
            for n in names
            if n in {s.name for s in wsgi} and n not in (FLASK_DEFAULT, FLASK_SESSION)
        ],
        "django": [n for n in (WS_DJANGO_SQLITE, WS_DJANGO_REDIS) if n in names],
        "django_peers": [n for n in (DJANGO_DB, DJANGO_CACHE) if n in names],
        "asgi_peers": [n for n in (STARLETTE, SS_MEMORY, SS_REDIS) if n in names],
        "wsgi_peers": [n for n in (FLASK_DEFAULT, FLASK_SESSION) if n in names],
        "bare": {kind: item.subject.name for kind, item in bare.items()},
        "ops": ops,
        "floors": floor_times,
        "skipped": skipped,
        "servers": servers,
        "profiles": profile_list,
        "reps": args.reps,
    }


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
            print("bench: end to end under uvicorn", flush=True)
            names = [
                "bare",
                "starlette",
                "starsessions-memory",
                "websession-memory",
                "websession-sqlite",
            ]
            if apps.env("WEBSESSION_TEST_REDIS_URL"):
                names += ["starsessions-redis", "websession-redis"]
            if apps.env("WEBSESSION_TEST_POSTGRES_URL") and apps.postgres_available() is None:
                names.append("websession-postgres")
            cases = {"read": "/read", "write": "/write"}
            rates = e2e.run_all(names, cases, args.e2e_seconds, tmp / "e2e.db")
    measured = (
        set(found["asgi"])
        | set(found["wsgi"])
        | set(found["asgi_peers"])
        | set(found["wsgi_peers"])
    )
    results = Results(
        targets=_targets(found["timings"], measured, found["floors"], rates),
        rates=rates,
        memory=memory_use,
        seconds=time.monotonic() - started,
        **found,
    )
    text = render(results)
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d-%H%M")
    report = args.out / f"bench-{stamp}-{socket.gethostname()}.md"
    report.write_text(text, encoding="utf-8")
    (args.out / "latest.md").write_text(text, encoding="utf-8")
    print(text)
    print(f"bench: report written to {report}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
