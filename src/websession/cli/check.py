"""``check`` (can the store be reached, is its schema there, how fast is it) and
``rotate-secret`` (how to change the signing secret, and what happens to cookies)."""

from __future__ import annotations

import argparse
import secrets
import statistics
import time
from typing import Any

from websession.cli.output import emit_json
from websession.cli.stores import open_cli_store
from websession.stores.url import POSTGRES_SCHEMES, scheme
from websession.types import SessionKey

__all__ = ["run_check", "run_rotate_secret", "server_version"]

_ROUND_TRIPS = 5


def server_version(url: str) -> str | None:
    """The server's version for Redis and PostgreSQL URLs, None for embedded stores."""
    kind = scheme(url, what="store", example="'sqlite:///sessions.db'")
    if kind in POSTGRES_SCHEMES:
        import psycopg

        from websession.stores.url import parse_postgres_url

        with psycopg.connect(parse_postgres_url(url, table="unused").conninfo) as db:
            row = db.execute("SHOW server_version").fetchone()
        return f"PostgreSQL {row[0]}" if row else None
    if kind in ("redis", "rediss", "valkey", "redis+cluster"):
        return _redis_version(url)
    return None


def _redis_version(url: str) -> str | None:
    import redis
    import redis.cluster

    from websession.stores.redis.options import parse_url

    options = parse_url(url)
    host, port = options.hosts[0]
    settings: dict[str, Any] = {
        "username": options.username,
        "password": options.password,
        "ssl": options.ssl,
        "socket_timeout": options.timeout,
        "socket_connect_timeout": options.connect_timeout,
    }
    client: redis.Redis | redis.cluster.RedisCluster
    if options.cluster:
        client = redis.cluster.RedisCluster(host=host, port=port, **settings)
    else:
        client = redis.Redis(host=host, port=port, db=options.db, **settings)
    with client:
        info: Any = client.info("server")
    if options.cluster:  # one entry per node
        info = next(iter(info.values()))
    server = "Valkey" if "valkey_version" in info else "Redis"
    return f"{server} {info.get('valkey_version') or info.get('redis_version')}"


def run_check(args: argparse.Namespace) -> int:
    """Open the store, read a key that does not exist a few times (this also proves the
    schema is there), and report the server version and the read latency."""
    store = open_cli_store(args.store)
    try:
        timings = []
        for _ in range(_ROUND_TRIPS):
            started = time.perf_counter()
            store.load(SessionKey(secrets.token_hex(32)))
            timings.append((time.perf_counter() - started) * 1000)
        name = type(store).__name__
    finally:
        store.close()
    version = server_version(args.store)
    latency = {"min_ms": round(min(timings), 3), "median_ms": round(statistics.median(timings), 3)}
    if args.json:
        emit_json({"command": "check", "ok": True, "store": name, "server": version, **latency})
        return 0
    print(f"ok: the {name} answers; its schema is in place")
    if version:
        print(f"server: {version}")
    print(
        f"read latency: median {latency['median_ms']} ms, best {latency['min_ms']} ms "
        f"over {_ROUND_TRIPS} reads (the first one includes connecting)"
    )
    return 0


def run_rotate_secret(args: argparse.Namespace) -> int:
    """Print the configuration change that rotates the secret, and what it does."""
    new = secrets.token_urlsafe(48)
    if args.json:
        emit_json({"command": "rotate-secret", "new_secret": new})
        return 0
    print(f"""To rotate the secret that signs session cookies:

1. Set the new secret and keep the current one as a previous secret:

     WEBSESSION_SECRET={new}
     WEBSESSION_PREVIOUS_SECRETS=<the current WEBSESSION_SECRET>[,<older ones>]

   (in code: SessionConfig(secret=..., previous_secrets=[...])). Deploy it to every
   process that serves the app.

2. What happens to existing cookies: a cookie signed with a previous secret still
   verifies, so nobody is logged out; it is re-signed with the new secret the next
   time it is set. Session records in the store are untouched (they are keyed by the
   token's hash, not by the secret). Encrypted-cookie sessions (cookie://) open with
   either secret and are sealed with the new one when next written.

3. After the absolute timeout (WEBSESSION_ABSOLUTE_TIMEOUT, 14 days by default) every
   live cookie has been re-signed or has expired: remove the old value from
   WEBSESSION_PREVIOUS_SECRETS.

If the old secret leaked, skip step 1's previous secret: every existing cookie stops
verifying at once and every browser gets a fresh anonymous session (everyone is logged
out); then run `websession purge` to clear the orphaned records.""")
    return 0
