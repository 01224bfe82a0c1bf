"""Redis / Valkey store, sync and async, standalone or Redis Cluster (redis-py + hiredis).

URLs::

    redis://[user:password@]host:6379/0      plain TCP (``valkey://`` is the same)
    rediss://[user:password@]host:6380/0     TLS
    redis+cluster://host:7000[,host:7001]    Redis Cluster (database 0 only)

Query parameters: ``prefix`` (key prefix, default ``websession``), ``connect_timeout`` and
``timeout`` (seconds, default 2 each; ``timeout`` bounds every command and the wait for
a free connection, which the async store bounds together) and ``max_connections``
(default 50). Nothing connects until the first command, so an app starts while Redis
is down and answers 503 until it is back;
a dead pooled connection (server restarted) is replaced by one immediate retry, which
is safe because every operation here can be repeated (a repeated create finds its own
record and changes nothing). Timeouts are not retried.

Key layout (``P`` is the prefix, ``K`` the session key: the SHA-256 of the token)::

    P:s:{K}     HASH, one per session; expires (PEXPIREAT) at the record's idle deadline
        d:<name>    one field per data key: its JSON value (orjson)
        m:c m:l     created_at, last_seen     (Unix seconds, as Python float reprs)
        m:e m:a     expires_at, absolute_expires_at
        m:u         user_id (absent when the session has no user)
    P:u:<user>  ZSET, the per-user index: member K, scored by the session's absolute
                deadline; expires with its latest member

Data fields (``d:``) and metadata (``m:``) cannot collide. One field per key makes a
patch a plain HSET/HDEL of the changed fields, so no JSON is merged on the server and
concurrent requests that change different keys never lose each other's keys.

Round trips: ``load`` is one HGETALL; ``create``, ``update`` and ``touch`` are one
Lua script each (EVALSHA, falling back to EVAL once after a server restart) that checks
existence, patches, and sets the expiry atomically, so an update never resurrects a
deleted session. ``purge_expired`` does nothing and returns 0: Redis expires the
records itself, and no request path ever uses KEYS or SCAN. Deadlines are absolute
(PEXPIREAT), so keep the Redis and app clocks in sync; the engine enforces expiry on
read in any case.

The index is scored by the *absolute* deadline, which never moves: refreshing a
session's idle deadline (``touch``, ``update``) never has to write the index, and an
index member whose score has passed belongs to a session that is surely gone. Every
index write first drops such members (ZREMRANGEBYSCORE by the server's clock), and the
index key expires with its latest member, so an index never outgrows the sessions its
user started within one absolute timeout. ``list_user`` and ``delete_user`` read the
index (ZRANGE), then the user's sessions in one pipeline, and check each session's
``m:u``: a member never leads to another user's session, and members whose session is
gone are removed (a third round trip, only when there are some).

Cluster trade-off. The session key is known before its user (a visitor logs in later),
so a session cannot live in its user's hash slot: the session is tagged by its own key
(``{K}``) and the index sits in a slot of its own. On a cluster every script touches
one key (one slot), so the two cannot change in one atomic step:

* standalone Redis/Valkey: each write script also maintains the index (deriving the
  index keys from ``m:u`` on the server), so session and index change atomically, in
  one round trip;
* Redis Cluster: scripts touch only the session; the index write is a separate
  command, ordered so that a failure can leave only an *extra* index member (filtered
  out, and removed or pruned later), never a session missing from its user's index,
  which would escape a logout-everywhere. ``create`` and ``replace`` with a user send
  the index write and the session write in one pipeline (one round trip, to each
  server concerned at once): if either fails the request fails, the new cookie is
  never sent, and a session whose token nobody holds simply expires. An ``update``
  that binds a session to a user takes three round trips in order: read the absolute
  deadline, add the index member, then bind. ``delete`` is a plain DEL, and a session
  moved to another user leaves a member in its old user's index, until pruned.

Data keys are never lost in either mode; only the index may be stale, and only in the
self-healing direction.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import threading
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import parse_qsl, unquote, urlsplit

import orjson
import redis
import redis.asyncio
import redis.asyncio.cluster
import redis.cluster
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import NoBackoff
from redis.exceptions import (
    ClusterDownError,
    NoScriptError,
    RedisClusterException,
    RedisError,
    ResponseError,
)
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.retry import Retry

from websession.errors import ConfigError, StoreError, StoreTimeout, StoreUnavailable
from websession.types import Changes, Record, SessionKey

__all__ = ["AsyncRedisStore", "RedisOptions", "RedisStore", "open_async", "open_sync", "parse_url"]

T = TypeVar("T")

Command = tuple[Any, ...]
"""Arguments of one Redis command, as for ``execute_command``."""
Plan = Generator[list[Command], list[Any], T]
"""An operation as a sans-IO generator: yields batches (one round trip each, pipelined
when longer than one) and receives their results; the sync and async stores run it."""

_SCHEMES = {"redis": False, "valkey": False, "rediss": True, "redis+cluster": False}
_DEFAULT_PORT = 6379


# -- options -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RedisOptions:
    """Connection settings of a Redis store, parsed from its URL by ``parse_url``."""

    hosts: tuple[tuple[str, int], ...]
    """``(host, port)`` to connect to; several only for a cluster (startup nodes)."""
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


def parse_url(url: str) -> RedisOptions:
    """Parse a ``redis://``, ``rediss://``, ``valkey://`` or ``redis+cluster://`` URL.

    Raises ConfigError, saying what to change; the message never repeats a password.
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in _SCHEMES:
        raise ConfigError(
            f"a Redis store URL starts with redis://, rediss://, valkey:// or "
            f"redis+cluster://, not {scheme}://"
        )
    cluster = scheme == "redis+cluster"
    userinfo, _, hostlist = parts.netloc.rpartition("@")
    user, has_password, password = userinfo.partition(":")
    hosts = tuple(_host_port(item) for item in hostlist.split(","))
    if len(hosts) > 1 and not cluster:
        raise ConfigError(f"{scheme}:// takes one host; list several only in redis+cluster://")
    db = _database(parts.path, cluster)
    options: dict[str, Any] = {}
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        if name in options:
            raise ConfigError(f"the Redis URL sets {name!r} twice; keep one")
        options[name] = _option(name, value)
    return RedisOptions(
        hosts=hosts,
        cluster=cluster,
        ssl=_SCHEMES[scheme],
        db=db,
        username=unquote(user) or None,
        password=unquote(password) if has_password else None,
        **options,
    )


def _host_port(item: str) -> tuple[str, int]:
    try:
        parsed = urlsplit("//" + item)
        port = parsed.port
    except ValueError as exc:
        raise ConfigError("a Redis URL host looks like host:6379 or [::1]:6379") from exc
    return parsed.hostname or "localhost", port or _DEFAULT_PORT


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
        try:
            seconds = float(value)
        except ValueError:
            seconds = math.nan
        if not (0 < seconds < math.inf):
            raise ConfigError(f"{name} is a positive number of seconds, e.g. ?{name}=2")
        return seconds
    if name == "max_connections":
        if not value.isdigit() or int(value) < 1:
            raise ConfigError("max_connections is a whole number of at least 1, e.g. 50")
        return int(value)
    raise ConfigError(
        f"unknown Redis URL option {name!r}: use prefix, connect_timeout, timeout "
        "or max_connections"
    )


# -- Lua: every script touches only the keys in KEYS, except that on standalone Redis
# (index prefix ARGV non-empty) write scripts also maintain the derived index keys. ---

_LIB = """
local function hset_all(key, argv, first, last)
  for i = first, last, 200 do
    redis.call('HSET', key, unpack(argv, i, math.min(i + 199, last)))
  end
end
local function hdel_all(key, argv, first, last)
  for i = first, last, 200 do
    redis.call('HDEL', key, unpack(argv, i, math.min(i + 199, last)))
  end
end
local function index_add(index, member, score)
  redis.call('ZREMRANGEBYSCORE', index, '-inf', redis.call('TIME')[1])
  redis.call('ZADD', index, score, member)
  local top = redis.call('ZRANGE', index, -1, -1, 'WITHSCORES')
  redis.call('PEXPIREAT', index, string.format('%.0f', math.ceil(tonumber(top[2]) * 1000)))
end
local function drop(key, index_prefix, member)
  if index_prefix ~= '' then
    local user = redis.call('HGET', key, 'm:u')
    if user then redis.call('ZREM', index_prefix .. user, member) end
  end
  return redis.call('DEL', key)
end
"""


class _Script:
    """A Lua script called by EVALSHA; ``_BODIES`` gives EVAL its text after NOSCRIPT."""

    def __init__(self, body: str) -> None:
        self.body = _LIB + body
        self.sha = hashlib.sha1(self.body.encode(), usedforsecurity=False).hexdigest()
        _BODIES[self.sha] = self.body

    def call(self, keys: Sequence[str], args: Sequence[Any]) -> Command:
        return ("EVALSHA", self.sha, len(keys), *keys, *args)


_BODIES: dict[str, str] = {}

# KEYS[1] new session, KEYS[2] session to delete first (replace). ARGV: 1 expiry (ms),
# 2 member, 3 index score, 4 index prefix ('' = indexes kept by the caller),
# 5 member of KEYS[2], 6.. field/value pairs. Returns 1, or 0 if KEYS[1] exists.
_CREATE = _Script("""
if KEYS[2] then drop(KEYS[2], ARGV[4], ARGV[5]) end
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
hset_all(KEYS[1], ARGV, 6, #ARGV)
if ARGV[4] ~= '' then
  local user = redis.call('HGET', KEYS[1], 'm:u')
  if user then index_add(ARGV[4] .. user, ARGV[2], ARGV[3]) end
end
redis.call('PEXPIREAT', KEYS[1], ARGV[1])
return 1
""")

# KEYS[1] session. ARGV: 1 expiry (ms), 2 member, 3 index prefix ('' = indexes kept by
# the caller), 4 user change ('' none, '-' unbind, '=' bind to ARGV[5]), 5 user,
# 6 number n of set elements, 7..6+n field/value pairs, then fields to delete.
# Returns 1, or 0 (and changes nothing) if the session is gone.
_UPDATE = _Script("""
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local n = 6 + tonumber(ARGV[6])
hset_all(KEYS[1], ARGV, 7, n)
hdel_all(KEYS[1], ARGV, n + 1, #ARGV)
if ARGV[4] ~= '' then
  local old = redis.call('HGET', KEYS[1], 'm:u')
  local new = nil
  if ARGV[4] == '=' then
    new = ARGV[5]
    redis.call('HSET', KEYS[1], 'm:u', new)
  else
    redis.call('HDEL', KEYS[1], 'm:u')
  end
  if ARGV[3] ~= '' and old ~= new then
    if old then redis.call('ZREM', ARGV[3] .. old, ARGV[2]) end
    if new then index_add(ARGV[3] .. new, ARGV[2], redis.call('HGET', KEYS[1], 'm:a')) end
  end
end
redis.call('PEXPIREAT', KEYS[1], ARGV[1])
return 1
""")

# KEYS[1] session. ARGV: 1 index prefix, 2 member.
_DELETE = _Script("return drop(KEYS[1], ARGV[1], ARGV[2])")

# KEYS[1] session. ARGV: 1 user. Returns 1 deleted, 0 gone, -1 another user's session.
_DELETE_IF_OWNED = _Script("""
local user = redis.call('HGET', KEYS[1], 'm:u')
if user == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
if user or redis.call('EXISTS', KEYS[1]) == 1 then return -1 end
return 0
""")

# KEYS[1] index. ARGV: 1 member, 2 score.
_INDEX_ADD = _Script("index_add(KEYS[1], ARGV[1], ARGV[2]) return 1")


# -- records -----------------------------------------------------------------------


def _ms(seconds: float) -> int:
    return math.ceil(seconds * 1000)


def _fields(record: Record) -> list[Any]:
    fields: list[Any] = [
        "m:c", record.created_at, "m:l", record.last_seen,
        "m:e", record.expires_at, "m:a", record.absolute_expires_at,
    ]  # fmt: skip
    if record.user_id is not None:
        fields += ["m:u", record.user_id]
    for name, value in record.data.items():
        fields += ["d:" + name, orjson.dumps(value)]
    return fields


def _record(fields: dict[bytes, bytes]) -> Record:
    try:
        data = {
            name[2:].decode(): orjson.loads(value)
            for name, value in fields.items()
            if name[:2] == b"d:"
        }
        user = fields.get(b"m:u")
        return Record(
            data,
            float(fields[b"m:c"]),
            float(fields[b"m:l"]),
            float(fields[b"m:e"]),
            float(fields[b"m:a"]),
            None if user is None else user.decode(),
        )
    except (KeyError, ValueError) as exc:
        raise StoreError("a stored session record is corrupt") from exc


# -- operations, free of I/O ---------------------------------------------------------


class _Plans:
    """Every store operation as a ``Plan``, for one prefix and one deployment kind."""

    def __init__(self, prefix: str, cluster: bool) -> None:
        self.cluster = cluster
        self._session_prefix = f"{prefix}:s:{{"
        self.index_prefix = f"{prefix}:u:"
        # Standalone scripts maintain the index themselves; cluster scripts cannot.
        self._script_index = "" if cluster else self.index_prefix

    def session(self, key: str) -> str:
        """The Redis key of a session, hash-tagged by the session key."""
        return f"{self._session_prefix}{key}}}"

    def index(self, user_id: str) -> str:
        """The Redis key of a user's index."""
        return self.index_prefix + user_id

    def _index_add(self, user_id: str, key: str, score: Any) -> Command:
        return _INDEX_ADD.call([self.index(user_id)], [key, score])

    def load(self, key: SessionKey) -> Plan[Record | None]:
        (fields,) = yield [("HGETALL", self.session(key))]
        return _record(fields) if fields else None

    def create(self, key: SessionKey, record: Record) -> Plan[bool]:
        args = [_ms(record.expires_at), key, record.absolute_expires_at, self._script_index, ""]
        call = _CREATE.call([self.session(key)], [*args, *_fields(record)])
        if self.cluster and record.user_id is not None:
            results = yield [self._index_add(record.user_id, key, record.absolute_expires_at), call]
        else:
            results = yield [call]
        return bool(results[-1] == 1)

    def update(self, key: SessionKey, changes: Changes) -> Plan[bool]:
        session = self.session(key)
        user = changes.user_id if changes.set_user else None
        change = "" if not changes.set_user else "-" if user is None else "="
        if self.cluster and user is not None:
            # Index first, bind second: a failure leaves an extra member, never a gap.
            (absolute,) = yield [("HGET", session, "m:a")]
            if absolute is None:
                return False
            yield [self._index_add(user, key, absolute)]
        pairs: list[Any] = ["m:l", changes.last_seen, "m:e", changes.expires_at]
        for name, value in changes.set.items():
            pairs += ["d:" + name, orjson.dumps(value)]
        args = [_ms(changes.expires_at), key, self._script_index, change, user or "", len(pairs)]
        removed = ["d:" + name for name in changes.remove]
        (updated,) = yield [_UPDATE.call([session], [*args, *pairs, *removed])]
        return bool(updated == 1)

    def touch(self, key: SessionKey, last_seen: float, expires_at: float) -> Plan[bool]:
        return self.update(key, Changes(last_seen=last_seen, expires_at=expires_at))

    def replace(self, old_key: SessionKey, key: SessionKey, record: Record) -> Plan[None]:
        args = [_ms(record.expires_at), key, record.absolute_expires_at, self._script_index]
        if not self.cluster:
            keys = [self.session(key), self.session(old_key)]
            yield [_CREATE.call(keys, [*args, old_key, *_fields(record)])]
            return
        batch = [
            _CREATE.call([self.session(key)], [*args, "", *_fields(record)]),
            ("DEL", self.session(old_key)),
        ]
        if record.user_id is not None:
            batch.insert(0, self._index_add(record.user_id, key, record.absolute_expires_at))
        yield batch

    def delete(self, key: SessionKey) -> Plan[None]:
        if self.cluster:
            yield [("DEL", self.session(key))]
        else:
            yield [_DELETE.call([self.session(key)], [self.index_prefix, key])]

    def list_user(self, user_id: str, now: float) -> Plan[list[tuple[SessionKey, Record]]]:
        index = self.index(user_id)
        (members,) = yield [("ZRANGE", index, 0, -1)]
        if not members:
            return []
        found = yield [("HGETALL", self.session(m.decode())) for m in members]
        gone = [m for m, fields in zip(members, found, strict=True) if not fields]
        if gone:
            yield [("ZREM", index, *gone)]
        sessions = [
            (SessionKey(m.decode()), _record(fields))
            for m, fields in zip(members, found, strict=True)
            if fields
        ]
        live = [(k, r) for k, r in sessions if r.user_id == user_id and r.expires_at > now]
        live.sort(key=lambda item: item[1].created_at)
        return live

    def delete_user(self, user_id: str, keep: SessionKey | None) -> Plan[int]:
        index = self.index(user_id)
        (members,) = yield [("ZRANGE", index, 0, -1)]
        targets = [m for m in members if m.decode() != keep]
        if not targets:
            return 0
        results = yield [
            _DELETE_IF_OWNED.call([self.session(m.decode())], [user_id]) for m in targets
        ]
        # Drop the members deleted here or already gone; another user's stay until pruned.
        done = [m for m, result in zip(targets, results, strict=True) if result >= 0]
        if done:
            yield [("ZREM", index, *done)]
        return sum(1 for result in results if result == 1)


# -- errors ------------------------------------------------------------------------


def _store_error(exc: BaseException) -> StoreError:
    """The StoreError for a driver error; the message never echoes command arguments."""
    if isinstance(exc, RedisTimeoutError | TimeoutError):
        return StoreTimeout("a Redis session store command timed out")
    if isinstance(exc, RedisConnectionError | ClusterDownError | RedisClusterException | OSError):
        return StoreUnavailable("the Redis session store is unreachable")
    return StoreError("a Redis session store command failed")


_DRIVER_ERRORS = (RedisError, RedisClusterException, OSError)


def _as_eval(command: Command) -> Command:
    return ("EVAL", _BODIES[command[1]], *command[2:])


def _first_key(command: Command) -> Any:
    return command[3] if command[0] in ("EVALSHA", "EVAL") else command[1]


def _shared(options: RedisOptions) -> dict[str, Any]:
    """Client settings common to every kind of client."""
    return {
        "username": options.username,
        "password": options.password,
        "socket_timeout": options.timeout,
        "socket_connect_timeout": options.connect_timeout,
        "max_connections": options.max_connections,
    }


def _standalone(options: RedisOptions) -> dict[str, Any]:
    """Settings of a standalone (non-cluster) client."""
    host, port = options.hosts[0]
    return {"host": host, "port": port, "db": options.db, "ssl": options.ssl, **_shared(options)}


def _noscript(results: list[Any]) -> list[int]:
    """Positions of pipelined scripts to run again by EVAL; raise any other error."""
    for result in results:
        if isinstance(result, Exception) and not isinstance(result, NoScriptError):
            raise result
    return [i for i, result in enumerate(results) if isinstance(result, NoScriptError)]


# One immediate retry replaces a dead pooled connection; timeouts are not retried.
def _retry() -> Retry:
    return Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,))


def _async_retry() -> AsyncRetry:
    return AsyncRetry(NoBackoff(), 1, supported_errors=(RedisConnectionError,))


# -- sync --------------------------------------------------------------------------


def _node(host: str, port: int) -> redis.cluster.ClusterNode:
    return redis.cluster.ClusterNode(host, port)  # type: ignore[no-untyped-call]


class RedisStore:
    """Sessions in Redis / Valkey or a Redis Cluster, synchronous (see the module doc)."""

    def __init__(self, options: RedisOptions) -> None:
        self.options = options
        self._plans = _Plans(options.prefix, options.cluster)
        self._lock = threading.Lock()
        # Redis pools raise when full: the semaphore makes callers wait for a free slot
        # instead (at most one connection per server per operation).
        self._slots = threading.BoundedSemaphore(options.max_connections)
        self._client: redis.Redis | redis.cluster.RedisCluster | None = None
        if not options.cluster:  # the sync cluster client connects when made: see below
            self._client = redis.Redis(**_standalone(options), retry=_retry())

    def __repr__(self) -> str:
        return f"RedisStore({self.options!r})"

    def _connected(self) -> redis.Redis | redis.cluster.RedisCluster:
        client = self._client
        if client is None:
            with self._lock:
                if self._client is None:
                    self._client = redis.cluster.RedisCluster(
                        startup_nodes=[_node(h, p) for h, p in self.options.hosts],
                        retry=_retry(),
                        **_shared(self.options),
                    )
                client = self._client
        return client

    def _run(self, plan: Plan[T]) -> T:
        results: Any = None
        while True:
            try:
                batch = plan.send(results)
            except StopIteration as done:
                value: T = done.value
                return value
            results = self._execute(batch)

    def _execute(self, batch: list[Command]) -> list[Any]:
        slots = self._slots
        if not slots.acquire(timeout=self.options.timeout):
            raise StoreTimeout("no Redis connection became free in time")
        try:
            return self._send(self._connected(), batch)
        except _DRIVER_ERRORS as exc:
            raise _store_error(exc) from exc
        finally:
            slots.release()

    @staticmethod
    def _send(client: Any, batch: list[Command]) -> list[Any]:
        if len(batch) == 1:
            return [RedisStore._call(client, batch[0])]
        pipe = client.pipeline(transaction=False)
        cluster = isinstance(client, redis.cluster.RedisCluster)
        for command in batch:
            if cluster:
                # Route by the slot table: left to itself, the sync cluster pipeline asks
                # the server (COMMAND GETKEYS) where each script's keys are.
                node = client.get_node_from_key(_first_key(command))
                pipe.execute_command(*command, target_nodes=node)
            else:
                pipe.execute_command(*command)
        results: list[Any] = pipe.execute(raise_on_error=False)
        for i in _noscript(results):
            results[i] = RedisStore._call(client, batch[i])
        return results

    @staticmethod
    def _call(client: Any, command: Command) -> Any:
        try:
            return client.execute_command(*command)
        except NoScriptError:
            return client.execute_command(*_as_eval(command))

    def load(self, key: SessionKey) -> Record | None:
        """See ``Store.load``: one HGETALL."""
        return self._run(self._plans.load(key))

    def create(self, key: SessionKey, record: Record) -> bool:
        """See ``Store.create``: one script that never overwrites."""
        return self._run(self._plans.create(key, record))

    def update(self, key: SessionKey, changes: Changes) -> bool:
        """See ``Store.update``: one script patching only the named keys."""
        return self._run(self._plans.update(key, changes))

    def touch(self, key: SessionKey, last_seen: float, expires_at: float) -> bool:
        """See ``Store.touch``: one script moving the deadline and the TTL."""
        return self._run(self._plans.touch(key, last_seen, expires_at))

    def replace(self, old_key: SessionKey, key: SessionKey, record: Record) -> None:
        """See ``Store.replace``: one script, or one pipeline on a cluster."""
        self._run(self._plans.replace(old_key, key, record))

    def delete(self, key: SessionKey) -> None:
        """See ``Store.delete``."""
        self._run(self._plans.delete(key))

    def list_user(self, user_id: str, now: float) -> list[tuple[SessionKey, Record]]:
        """See ``Store.list_user``: the index, then the sessions in one pipeline."""
        return self._run(self._plans.list_user(user_id, now))

    def delete_user(self, user_id: str, *, keep: SessionKey | None = None) -> int:
        """See ``Store.delete_user``: the index, then one pipeline of deletions."""
        return self._run(self._plans.delete_user(user_id, keep))

    def purge_expired(self, now: float, *, limit: int = 1000) -> int:
        """Return 0: Redis expires sessions itself (TTLs), and indexes prune on write."""
        return 0

    def close(self) -> None:
        """Close every connection."""
        client, self._client = self._client, None
        if client is not None:
            client.close()


# -- async -------------------------------------------------------------------------


def _connection_factory(options: RedisOptions) -> Callable[[], redis.asyncio.Connection]:
    """Make connections to a standalone server with no per-read timeout: the async
    store bounds each round trip as a whole (``asyncio.timeout``)."""
    host, port = options.hosts[0]
    kind = redis.asyncio.SSLConnection if options.ssl else redis.asyncio.Connection
    settings: dict[str, Any] = {
        "host": host,
        "port": port,
        "db": options.db,
        "username": options.username,
        "password": options.password,
        "socket_timeout": None,
        "socket_connect_timeout": options.connect_timeout,
        "retry": AsyncRetry(NoBackoff(), 0),  # the store retries whole round trips
    }
    return lambda: kind(**settings)


async def _round_trip(conn: redis.asyncio.Connection, batch: list[Command]) -> list[Any]:
    """Send ``batch`` (pipelined) on ``conn`` and read every reply; a reply that is a
    server error is returned, not raised, so the connection is left with nothing unread."""
    packed = conn.pack_command(*batch[0]) if len(batch) == 1 else conn.pack_commands(batch)
    await conn.send_packed_command(packed, check_health=False)
    results: list[Any] = []
    for command in batch:
        try:
            reply = await conn.read_response()
        except ResponseError as exc:
            reply = exc
        if command[0] == "HGETALL" and isinstance(reply, list):  # RESP2: a flat list
            pairs = iter(reply)
            reply = dict(zip(pairs, pairs, strict=True))
        results.append(reply)
    return results


class AsyncRedisStore:
    """Sessions in Redis / Valkey or a Redis Cluster, on redis.asyncio (see the module doc).

    On a standalone server the store keeps its own connections (at most
    ``max_connections``) and talks to them directly: one ``asyncio.timeout`` bounds the
    wait for a connection and the round trip together, and a connection that fails,
    times out or is cancelled mid-command is closed, never reused, so no reply is ever
    left unread on a connection that is handed out again. A Redis Cluster goes through
    redis-py's cluster client.
    """

    def __init__(self, options: RedisOptions) -> None:
        self.options = options
        self._plans = _Plans(options.prefix, options.cluster)
        # Nothing connects before the first command.
        self._slots = asyncio.Semaphore(options.max_connections)
        self._idle: list[redis.asyncio.Connection] = []
        self._new_connection = _connection_factory(options)  # standalone only
        self._cluster: redis.asyncio.cluster.RedisCluster | None = None
        if options.cluster:
            self._cluster = redis.asyncio.cluster.RedisCluster(
                startup_nodes=[redis.asyncio.cluster.ClusterNode(h, p) for h, p in options.hosts],
                retry=_async_retry(),
                **_shared(options),
            )

    def __repr__(self) -> str:
        return f"AsyncRedisStore({self.options!r})"

    async def _run(self, plan: Plan[T]) -> T:
        results: Any = None
        while True:
            try:
                batch = plan.send(results)
            except StopIteration as done:
                value: T = done.value
                return value
            results = await self._execute(batch)

    async def _execute(self, batch: list[Command]) -> list[Any]:
        slots = self._slots
        acquired = False
        try:
            async with asyncio.timeout(self.options.timeout):
                await slots.acquire()
                acquired = True
                if self._cluster is not None:
                    return await self._send_cluster(self._cluster, batch)
                results = await self._exchange(batch)
                for i in _noscript(results):
                    (results[i],) = await self._exchange([_as_eval(batch[i])])
                    if isinstance(results[i], Exception):
                        raise results[i]
                return results
        except TimeoutError as exc:
            if not acquired:
                raise StoreTimeout("no Redis connection became free in time") from exc
            raise StoreTimeout("a Redis session store command timed out") from exc
        except _DRIVER_ERRORS as exc:
            raise _store_error(exc) from exc
        finally:
            if acquired:
                slots.release()

    async def _exchange(self, batch: list[Command]) -> list[Any]:
        """One round trip on an idle connection, or a new one; a dead idle connection
        (server restarted) drops the other idle ones and the batch is sent once more."""
        for attempt in range(2):
            reused = bool(self._idle)
            conn = self._idle.pop() if reused else self._new_connection()
            try:
                results = await _round_trip(conn, batch)
            except RedisConnectionError:
                await conn.disconnect(nowait=True)
                if not reused or attempt:
                    raise
                await self._drop_idle()
                continue
            except BaseException:
                await conn.disconnect(nowait=True)
                raise
            self._idle.append(conn)
            return results
        raise AssertionError("unreachable")

    async def _drop_idle(self) -> None:
        idle, self._idle = self._idle, []
        for conn in idle:
            await conn.disconnect(nowait=True)

    @staticmethod
    async def _send_cluster(client: Any, batch: list[Command]) -> list[Any]:
        if len(batch) == 1:
            return [await AsyncRedisStore._call(client, batch[0])]
        pipe = client.pipeline(transaction=False)
        for command in batch:
            pipe.execute_command(*command)
        results: list[Any] = await pipe.execute(raise_on_error=False)
        for i in _noscript(results):
            results[i] = await AsyncRedisStore._call(client, batch[i])
        return results

    @staticmethod
    async def _call(client: Any, command: Command) -> Any:
        try:
            return await client.execute_command(*command)
        except NoScriptError:
            return await client.execute_command(*_as_eval(command))

    async def load(self, key: SessionKey) -> Record | None:
        """See ``Store.load``: one HGETALL."""
        return await self._run(self._plans.load(key))

    async def create(self, key: SessionKey, record: Record) -> bool:
        """See ``Store.create``: one script that never overwrites."""
        return await self._run(self._plans.create(key, record))

    async def update(self, key: SessionKey, changes: Changes) -> bool:
        """See ``Store.update``: one script patching only the named keys."""
        return await self._run(self._plans.update(key, changes))

    async def touch(self, key: SessionKey, last_seen: float, expires_at: float) -> bool:
        """See ``Store.touch``: one script moving the deadline and the TTL."""
        return await self._run(self._plans.touch(key, last_seen, expires_at))

    async def replace(self, old_key: SessionKey, key: SessionKey, record: Record) -> None:
        """See ``Store.replace``: one script, or one pipeline on a cluster."""
        await self._run(self._plans.replace(old_key, key, record))

    async def delete(self, key: SessionKey) -> None:
        """See ``Store.delete``."""
        await self._run(self._plans.delete(key))

    async def list_user(self, user_id: str, now: float) -> list[tuple[SessionKey, Record]]:
        """See ``Store.list_user``: the index, then the sessions in one pipeline."""
        return await self._run(self._plans.list_user(user_id, now))

    async def delete_user(self, user_id: str, *, keep: SessionKey | None = None) -> int:
        """See ``Store.delete_user``: the index, then one pipeline of deletions."""
        return await self._run(self._plans.delete_user(user_id, keep))

    async def purge_expired(self, now: float, *, limit: int = 1000) -> int:
        """Return 0: Redis expires sessions itself (TTLs), and indexes prune on write."""
        return 0

    async def close(self) -> None:
        """Close every connection."""
        await self._drop_idle()
        if self._cluster is not None:
            await self._cluster.aclose()


def open_sync(url: str) -> RedisStore:
    """The sync store for a Redis URL (see the module doc); connects on first use."""
    return RedisStore(parse_url(url))


def open_async(url: str) -> AsyncRedisStore:
    """The async store for a Redis URL (see the module doc); connects on first use."""
    return AsyncRedisStore(parse_url(url))
