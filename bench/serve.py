"""Serve one benchmark subject under uvicorn: ``python -m bench.serve NAME PORT``.

Server URLs come from the same environment variables as the tests
(``WEBSESSION_TEST_REDIS_URL``, ``WEBSESSION_TEST_POSTGRES_URL``) and
``BENCH_SQLITE_PATH``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

import uvicorn

from bench import apps


def subject(name: str) -> apps.Subject:
    """Build the ASGI subject called ``name``."""
    redis_url = os.environ.get("WEBSESSION_TEST_REDIS_URL", "")
    postgres_url = os.environ.get("WEBSESSION_TEST_POSTGRES_URL", "")
    sqlite_path = os.environ.get("BENCH_SQLITE_PATH", "bench-e2e.db")
    builders: dict[str, Callable[[], apps.Subject]] = {
        "bare": apps.bare_asgi,
        "starlette": apps.starlette_cookie,
        "starsessions-memory": apps.starsessions_memory,
        "starsessions-redis": lambda: apps.starsessions_redis(redis_url),
        "websession-memory": lambda: apps.websession_asgi(
            "websession memory", "memory://", "memory"
        ),
        "websession-sqlite": lambda: apps.websession_asgi(
            "websession SQLite", f"sqlite:///{sqlite_path}", "sqlite"
        ),
        "websession-redis": lambda: apps.websession_asgi(
            "websession Redis", f"{redis_url}?prefix=benche2e", "redis"
        ),
        "websession-postgres": lambda: apps.websession_asgi(
            "websession PostgreSQL", f"{postgres_url}?table=bench_e2e_sessions", "postgres"
        ),
    }
    return builders[name]()


def main(argv: list[str]) -> int:
    """Serve until killed."""
    name, port = argv[1], int(argv[2])
    uvicorn.run(
        subject(name).app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
        lifespan="off",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
