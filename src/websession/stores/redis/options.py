"""Redis store URLs: ``RedisOptions`` and ``parse_url``.

::

    redis://[user:password@]host:6379/0      plain TCP (``valkey://`` is the same)
    rediss://[user:password@]host:6380/0     TLS
    redis+cluster://host:7000[,host:7001]    Redis Cluster (database 0 only)
    redis+sentinel://host:26379[,host2:26379]/mymaster/0
                                             the primary that Redis Sentinel names
                                             ``mymaster`` (database 0 by default)

Query parameters: ``prefix`` (key prefix, default ``websession``), ``connect_timeout``
and ``timeout`` (seconds, default 2 each; ``timeout`` bounds every command and the wait
for a free connection), ``max_connections`` (default 50, per server), ``wait``
(replicas that must acknowledge each write, with ``WAIT``; default 0: not cluster) and
``autopipeline`` (``true`` by default: the async store sends the commands of concurrent
requests on one connection, those of one event-loop turn in one write).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

from websession.errors import ConfigError
from websession.stores.url import flag, positive_seconds, query_options, whole_number

__all__ = ["RedisOptions", "client_settings", "parse_url"]

_SCHEMES = {
    "redis": False,
    "valkey": False,
    "rediss": True,
    "redis+cluster": False,
    "redis+sentinel": False,
}
_DEFAULT_PORT = 6379
_SENTINEL_PORT = 26379


@dataclass(frozen=True, slots=True)
class RedisOptions:
    """Connection settings of a Redis store, parsed from its URL by ``parse_url``."""

    hosts: tuple[tuple[str, int], ...]
    """``(host, port)`` to connect to; several only for a cluster (startup nodes) or
    Sentinel (the sentinels)."""
    cluster: bool = False
    """True for ``redis+cluster://``."""
    ssl: bool = False
    """True for ``rediss://``."""
    db: int = 0
    """Database number (always 0 on a cluster)."""
    username: str | None = None
    """ACL user name, if any."""
    password: str | None = field(default=None, repr=False)
    """Password, if any (never shown in ``repr``)."""
    prefix: str = "websession"
    """Prefix of every key this store writes."""
    connect_timeout: float = 2.0
    """Seconds to wait for a TCP connection."""
    timeout: float = 2.0
    """Seconds to wait for a command's reply, or for a free pooled connection."""
    max_connections: int = 50
    """Connections per server (per node on a cluster)."""
    sentinel: str | None = None
    """The service name Redis Sentinel knows the primary by (``redis+sentinel://``)."""
    wait: int = 0
    """Replicas that must acknowledge each write (``WAIT``) before it counts as done;
    a write they do not acknowledge within half of ``timeout`` fails (503)."""
    autopipeline: bool = True
    """The async store on a standalone server (or Sentinel's primary): concurrent
    requests share one connection and the commands sent in one event-loop turn go out
    in one write (batches with ``WAIT`` keep a connection of their own); False: one
    connection per request in flight, as the sync store does."""


def parse_url(url: str) -> RedisOptions:
    """Parse a ``redis://``, ``rediss://``, ``valkey://`` or ``redis+cluster://`` URL.

    Raises ConfigError, saying what to change; the message never repeats a password.
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in _SCHEMES:
        raise ConfigError(
            f"a Redis store URL starts with redis://, rediss://, valkey://, "
            f"redis+cluster:// or redis+sentinel://, not {scheme}://"
        )
    cluster = scheme == "redis+cluster"
    sentinel = scheme == "redis+sentinel"
    userinfo, _, hostlist = parts.netloc.rpartition("@")
    user, has_password, password = userinfo.partition(":")
    default_port = _SENTINEL_PORT if sentinel else _DEFAULT_PORT
    hosts = tuple(_host_port(item, default_port) for item in hostlist.split(","))
    if len(hosts) > 1 and not (cluster or sentinel):
        raise ConfigError(
            f"{scheme}:// takes one host; list several only in redis+cluster:// "
            "or redis+sentinel://"
        )
    path, service = parts.path, None
    if sentinel:
        service, _, path = path.strip("/").partition("/")
        if not service:
            raise ConfigError(
                "a redis+sentinel:// URL names the primary's service after the hosts, "
                "as in redis+sentinel://host:26379/mymaster/0"
            )
    own, _ = query_options(parts.query, None, "Redis")
    options = {name: _option(name, value) for name, value in own.items()}
    if cluster and options.get("wait"):
        raise ConfigError("?wait= is not available on redis+cluster://")
    return RedisOptions(
        hosts=hosts,
        cluster=cluster,
        ssl=_SCHEMES[scheme],
        db=_database(path, cluster),
        username=unquote(user) or None,
        password=unquote(password) if has_password else None,
        sentinel=unquote(service) if service else None,
        **options,
    )


def _host_port(item: str, default_port: int) -> tuple[str, int]:
    try:
        parsed = urlsplit("//" + item)
        port = parsed.port
    except ValueError as exc:
        raise ConfigError("a Redis URL host looks like host:6379 or [::1]:6379") from exc
    return parsed.hostname or "localhost", port or default_port


def _database(path: str, cluster: bool) -> int:
    name = path.strip("/")
    if not name:
        return 0
    if not name.isdigit():
        raise ConfigError(
            f"the Redis database is a number, as in redis://host:6379/0, not {name!r}"
        )
    if cluster and int(name) != 0:
        raise ConfigError("Redis Cluster has only database 0: use redis+cluster://host:7000")
    return int(name)


def _option(name: str, value: str) -> Any:
    if name == "prefix":
        if not value or "{" in value or "}" in value:
            raise ConfigError(
                "the Redis key prefix must be non-empty and free of '{' and '}' "
                "(they would break the cluster hash tags), e.g. ?prefix=myapp"
            )
        return value
    if name in ("connect_timeout", "timeout"):
        return positive_seconds(name, value)
    if name == "max_connections":
        return whole_number(name, value, example=50)
    if name == "autopipeline":
        return flag(name, value)
    if name == "wait":
        if not value.isdigit():
            raise ConfigError(f"?wait= is a number of replicas, as in ?wait=1, not {value!r}")
        return int(value)
    raise ConfigError(
        f"unknown Redis URL option {name!r}: use prefix, connect_timeout, timeout, "
        "max_connections, wait or autopipeline"
    )


def client_settings(options: RedisOptions) -> dict[str, Any]:
    """redis-py client settings common to every kind of client."""
    return {
        "username": options.username,
        "password": options.password,
        "socket_timeout": options.timeout,
        "socket_connect_timeout": options.connect_timeout,
        "max_connections": options.max_connections,
    }
