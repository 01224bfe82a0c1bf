"""Redis-specific behaviour of the Redis store, on the real test servers (standalone and
cluster): round trips per operation, TTLs, the user index, hash tags, URL options."""

from __future__ import annotations

import asyncio
import gc
import logging
import math
import signal
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
import redis
import redis.cluster

from tests.conftest import server_url, store_url
from tests.serverapp import (
    build_app,
    client_for,
    cookie_of,
    request_costs,
    token_of,
    with_cookie,
)
from tests.test_redis_faults import RedisProcess
from websession.core.lifecycle import REVOKED_KEY
from websession.core.tokens import hash_token
from websession.errors import ConfigError, StoreError, StoreTimeout, StoreUnavailable
from websession.stores import open_async_store, open_store
from websession.stores.base import Purging
from websession.stores.redis import (
    AsyncRedisStore,
    RedisOptions,
    RedisStore,
    open_async,
    open_sync,
    parse_url,
)
from websession.testing import FakeClock, make_record, new_key
from websession.types import Changes, SessionKey

HOUR = 3600.0
Admin = redis.Redis | redis.cluster.RedisCluster


@pytest.fixture(params=["redis", "redis-cluster"])
def kind(request: pytest.FixtureRequest) -> str:
    value: str = request.param
    return value


@pytest.fixture
def url(kind: str, tmp_path: Path) -> str:
    return store_url(kind, tmp_path)


@pytest.fixture
def store(url: str) -> Iterator[RedisStore]:
    store = open_sync(url)
    yield store
    store.close()


@pytest.fixture
def admin(kind: str) -> Iterator[Admin]:
    """A plain client for inspecting keys on the server the store uses."""
    options = parse_url(server_url(kind))
    host, port = options.hosts[0]
    client: Admin = (
        redis.cluster.RedisCluster(host=host, port=port)
        if options.cluster
        else redis.Redis(host=host, port=port, db=options.db)
    )
    yield client
    client.close()


@pytest.fixture
def nodes(admin: Admin) -> Iterator[list[redis.Redis]]:
    """One client per server (per primary on a cluster), for server statistics."""
    if isinstance(admin, redis.cluster.RedisCluster):
        primaries = admin.get_primaries()  # type: ignore[no-untyped-call]
        clients = [redis.Redis(host=n.host, port=n.port) for n in primaries]
    else:
        kwargs = admin.connection_pool.connection_kwargs
        clients = [redis.Redis(host=kwargs["host"], port=kwargs["port"])]
    yield clients
    for client in clients:
        client.close()


Counters = tuple[int, int, int]


def counters(nodes: list[redis.Redis]) -> Counters:
    """Reads from clients, connections made and clients connected, over all servers."""
    total = (0, 0, 0)
    for node in nodes:
        info = node.info("stats", "clients")
        total = (
            total[0] + int(info["total_reads_processed"]),
            total[1] + int(info["total_connections_received"]),
            total[2] + int(info["connected_clients"]),
        )
    return total


def requests_between(nodes: list[redis.Redis], before: Counters, after: Counters) -> int | None:
    """Requests the servers read between two ``counters`` (the INFO calls excluded), or
    None if a connection opened or closed meanwhile: a close counts as a read too."""
    if before[1:] != after[1:]:
        return None
    return after[0] - before[0] - len(nodes)


def round_trips(nodes: list[redis.Redis], action: Callable[[], object]) -> int:
    """Requests the servers read from clients during ``action``; a pipeline to one
    server is one request. ``action`` runs again if other connections came or went."""
    for _ in range(3):
        before = counters(nodes)
        action()
        count = requests_between(nodes, before, counters(nodes))
        if count is not None:
            return count
    raise AssertionError("connections kept opening or closing while counting")


def command_calls(nodes: list[redis.Redis]) -> Counter[str]:
    calls: Counter[str] = Counter()
    for node in nodes:
        for name, stats in node.info("commandstats").items():
            calls[name.removeprefix("cmdstat_")] += int(stats["calls"])
    return calls


def commands_during(nodes: list[redis.Redis], action: Callable[[], object]) -> Counter[str]:
    """Commands the servers ran during ``action``, scripts' own calls included."""
    before = command_calls(nodes)
    action()
    after = command_calls(nodes)
    after.subtract(before)
    after["info"] -= len(nodes)
    return +after


def session_key(store: RedisStore, key: SessionKey) -> str:
    return f"{store.options.prefix}:s:{{{key}}}"


def index_key(store: RedisStore, user_id: str) -> str:
    return f"{store.options.prefix}:u:{user_id}"


def node_of(admin: Admin, key: str) -> str:
    if isinstance(admin, redis.cluster.RedisCluster):
        return str(admin.get_node_from_key(key).name)  # type: ignore[no-untyped-call]
    return "standalone"


def distinct_nodes(admin: Admin, *keys: str) -> int:
    return len({node_of(admin, key) for key in keys})


def warm_up(store: RedisStore, admin: Admin, nodes: list[redis.Redis]) -> None:
    """Connect to every server and load every script there, so counts are steady."""
    sessions: set[str] = set()
    indexes: set[str] = set()
    while len(sessions) < len(nodes) or len(indexes) < len(nodes):
        key, other = new_key(), new_key()
        user = "warm-" + key
        record = make_record({}, user_id=user)
        changes = Changes(last_seen=1.0, expires_at=record.expires_at, set={"a": 1})
        store.create(key, record)
        store.update(key, changes)
        store.replace(key, other, record)
        store.update(other, changes)
        store.delete_user(user)
        store.delete(other)
        sessions |= {node_of(admin, session_key(store, k)) for k in (key, other)}
        indexes.add(node_of(admin, index_key(store, user)))


# -- round trips ---------------------------------------------------------------------


def test_load_is_one_hgetall(store: RedisStore, nodes: list[redis.Redis]) -> None:
    key = new_key()
    store.create(key, make_record({"a": 1}))
    assert round_trips(nodes, lambda: store.load(key)) == 1
    assert commands_during(nodes, lambda: store.load(key)) == Counter({"hgetall": 1})


def test_writes_of_one_session_are_one_round_trip_each(
    store: RedisStore, admin: Admin, nodes: list[redis.Redis]
) -> None:
    warm_up(store, admin, nodes)
    key = new_key()
    record = make_record({"a": 1})
    changes = Changes(
        last_seen=record.last_seen + 1,
        expires_at=record.expires_at + 1,
        set={"b": [2]},
        remove=frozenset({"a"}),
    )
    assert round_trips(nodes, lambda: store.create(key, record)) == 1
    assert round_trips(nodes, lambda: store.update(key, changes)) == 1
    assert round_trips(nodes, lambda: store.touch(key, record.last_seen, record.expires_at)) == 1
    assert round_trips(nodes, lambda: store.delete(key)) == 1
    assert round_trips(nodes, lambda: store.update(key, changes)) == 1


def test_update_runs_one_script(store: RedisStore, admin: Admin, nodes: list[redis.Redis]) -> None:
    warm_up(store, admin, nodes)
    key = new_key()
    record = make_record({"a": 1})
    store.create(key, record)
    changes = Changes(last_seen=record.last_seen, expires_at=record.expires_at, set={"b": 2})
    store.update(key, changes)
    ran = commands_during(nodes, lambda: store.update(key, changes))
    assert ran["evalsha"] == 1
    assert ran["eval"] == 0
    assert ran["hgetall"] == 0


def test_writes_with_a_user_send_one_request_per_server(
    store: RedisStore, admin: Admin, nodes: list[redis.Redis], kind: str
) -> None:
    warm_up(store, admin, nodes)
    old, new = new_key(), new_key()
    user = "user-" + new
    record = make_record({"a": 1}, user_id=user)
    servers = distinct_nodes(admin, session_key(store, old), index_key(store, user))
    assert round_trips(nodes, lambda: store.create(old, record)) == servers
    if kind == "redis":
        assert round_trips(nodes, lambda: store.replace(old, new, record)) == 1
    else:  # the index member and the old session's check-and-delete, then the new one
        servers = distinct_nodes(admin, session_key(store, old), index_key(store, user))
        assert round_trips(nodes, lambda: store.replace(old, new, record)) == servers + 1


def test_redis_does_not_claim_purging(store: RedisStore) -> None:
    """Redis expires records itself (TTLs): no purge to run, none faked."""
    assert not isinstance(store, Purging)


async def test_requests_cost_zero_one_and_two_round_trips(
    url: str, nodes: list[redis.Redis]
) -> None:
    costs = await request_costs(
        url, lambda: counters(nodes), lambda before, after: requests_between(nodes, before, after)
    )
    # no cookie: no I/O; read: one HGETALL; write: load + patch; refresh: load + touch
    assert costs == [0, 1, 2, 2, 1]


# -- layout and expiry -----------------------------------------------------------------


def test_session_is_one_hash_of_json_fields_and_metadata(store: RedisStore, admin: Admin) -> None:
    key = new_key()
    record = make_record({"cart": [1, {"x": None}], "name": "é"}, user_id="alice")
    store.create(key, record)
    raw = admin.hgetall(session_key(store, key))
    assert raw == {
        b"d:cart": b'[1,{"x":null}]',
        b"d:name": '"é"'.encode(),
        b"m:c": repr(record.created_at).encode(),
        b"m:l": repr(record.last_seen).encode(),
        b"m:e": repr(record.expires_at).encode(),
        b"m:a": repr(record.absolute_expires_at).encode(),
        b"m:u": b"alice",
    }


def test_data_keys_named_like_metadata_do_not_collide(store: RedisStore) -> None:
    key = new_key()
    record = make_record({"m:u": "mallory", "m:e": 0, "d:x": 1}, user_id="alice")
    store.create(key, record)
    store.update(
        key,
        Changes(last_seen=record.last_seen, expires_at=record.expires_at, set={"m:a": 1, "u": 2}),
    )
    loaded = store.load(key)
    assert loaded is not None
    assert loaded.user_id == "alice"
    assert loaded.expires_at == record.expires_at
    assert loaded.absolute_expires_at == record.absolute_expires_at
    assert loaded.data == {"m:u": "mallory", "m:e": 0, "d:x": 1, "m:a": 1, "u": 2}


def test_many_keys_are_written_and_removed_in_one_patch(store: RedisStore) -> None:
    key = new_key()
    record = make_record({f"old{i}": i for i in range(500)})
    store.create(key, record)
    changes = Changes(
        last_seen=record.last_seen,
        expires_at=record.expires_at,
        set={f"new{i}": [i] for i in range(450)},
        remove=frozenset(f"old{i}" for i in range(500) if i % 2),
    )
    assert store.update(key, changes)
    loaded = store.load(key)
    assert loaded is not None
    expected = {f"old{i}": i for i in range(0, 500, 2)} | {f"new{i}": [i] for i in range(450)}
    assert loaded.data == expected


def expiry_ms(admin: Admin, name: str) -> int:
    return int(admin.pexpiretime(name))


def test_ttl_follows_expires_at_on_create_update_and_touch(store: RedisStore, admin: Admin) -> None:
    key = new_key()
    record = make_record({"a": 1})
    name = session_key(store, key)
    store.create(key, record)
    assert expiry_ms(admin, name) == math.ceil(record.expires_at * 1000)
    later = record.expires_at + 600.25
    store.update(key, Changes(last_seen=record.last_seen, expires_at=later, set={"b": 2}))
    assert expiry_ms(admin, name) == math.ceil(later * 1000)
    store.touch(key, record.last_seen, later + 60)
    assert expiry_ms(admin, name) == math.ceil((later + 60) * 1000)


def test_record_past_its_deadline_is_dropped_by_redis(store: RedisStore, admin: Admin) -> None:
    key = new_key()
    assert store.create(key, make_record({"a": 1}, now=FakeClock()() - 2 * HOUR)) is True
    assert admin.exists(session_key(store, key)) == 0
    assert store.load(key) is None


def test_user_index_expires_with_its_latest_absolute_deadline(
    store: RedisStore, admin: Admin
) -> None:
    now = FakeClock()()
    user = "user-" + new_key()
    store.create(new_key(), make_record({}, now=now, absolute=10 * HOUR, user_id=user))
    store.create(new_key(), make_record({}, now=now, absolute=20 * HOUR, user_id=user))
    store.create(new_key(), make_record({}, now=now, absolute=15 * HOUR, user_id=user))
    assert expiry_ms(admin, index_key(store, user)) == math.ceil((now + 20 * HOUR) * 1000)


def test_index_writes_prune_members_past_their_absolute_deadline(
    store: RedisStore, admin: Admin
) -> None:
    now = FakeClock()()
    user = "user-" + new_key()
    first, dead, second = new_key(), new_key(), new_key()
    store.create(first, make_record({}, now=now, user_id=user))
    store.create(dead, make_record({}, now=now - 25 * HOUR, user_id=user))
    index = index_key(store, user)
    assert set(admin.zrange(index, 0, -1)) == {first.encode(), dead.encode()}
    store.create(second, make_record({}, now=now, user_id=user))
    assert set(admin.zrange(index, 0, -1)) == {first.encode(), second.encode()}


def test_list_user_prunes_members_whose_session_is_gone(store: RedisStore, admin: Admin) -> None:
    now = FakeClock()()
    user = "user-" + new_key()
    kept, gone = new_key(), new_key()
    store.create(kept, make_record({}, now=now, user_id=user))
    store.create(gone, make_record({}, now=now, user_id=user))
    admin.delete(session_key(store, gone))  # as if Redis had expired it
    assert [k for k, _ in store.list_user(user, now)] == [kept]
    assert admin.zrange(index_key(store, user), 0, -1) == [kept.encode()]


def test_moving_a_session_to_another_user(store: RedisStore, admin: Admin, kind: str) -> None:
    now = FakeClock()()
    alice, bob = "alice-" + new_key(), "bob-" + new_key()
    key = new_key()
    record = make_record({}, now=now, user_id=alice)
    store.create(key, record)
    store.update(
        key, Changes(last_seen=now, expires_at=record.expires_at, set_user=True, user_id=bob)
    )
    assert admin.zrange(index_key(store, bob), 0, -1) == [key.encode()]
    assert admin.zscore(index_key(store, bob), key) == record.absolute_expires_at
    stale = admin.zrange(index_key(store, alice), 0, -1)
    # Standalone moves the member atomically; a cluster leaves a stale one behind.
    assert stale == ([key.encode()] if kind == "redis-cluster" else [])
    assert store.list_user(alice, now) == []
    assert store.delete_user(alice) == 0
    assert store.load(key) is not None
    assert admin.zrange(index_key(store, alice), 0, -1) == stale
    assert store.delete_user(bob) == 1
    assert admin.exists(index_key(store, bob)) == 0


def test_a_refused_regenerate_leaves_at_most_an_extra_index_member(
    store: RedisStore, admin: Admin, kind: str
) -> None:
    """Standalone: one script, so a refused replace changes nothing at all. Cluster: the
    new session's index member is written before the old session is checked, so a
    refusal leaves that member (never a session missing from its index); it leads
    nowhere and the next read of the index prunes it."""
    now = FakeClock()()
    user = "user-" + new_key()
    old, new = new_key(), new_key()
    record = make_record({REVOKED_KEY: now}, now=now, user_id=user)
    store.create(old, record)
    assert store.replace(old, new, record) is False
    assert admin.exists(session_key(store, new)) == 0
    members = set(admin.zrange(index_key(store, user), 0, -1))
    assert members == ({old.encode(), new.encode()} if kind == "redis-cluster" else {old.encode()})
    assert store.list_user(user, now) == [(old, record)]
    assert set(admin.zrange(index_key(store, user), 0, -1)) == {old.encode()}


def test_regenerate_is_one_script_on_standalone_and_two_steps_on_a_cluster(
    store: RedisStore, admin: Admin, nodes: list[redis.Redis], kind: str
) -> None:
    warm_up(store, admin, nodes)
    old, new = new_key(), new_key()
    record = make_record({"a": 1})
    store.create(old, record)
    ran = commands_during(nodes, lambda: store.replace(old, new, record))
    assert ran["evalsha"] == (1 if kind == "redis" else 2)
    assert ran["del"] == 1
    assert ran["hgetall"] == 0


def test_unbinding_the_user_keeps_the_session(store: RedisStore, admin: Admin) -> None:
    now = FakeClock()()
    user = "user-" + new_key()
    key = new_key()
    record = make_record({"a": 1}, now=now, user_id=user)
    store.create(key, record)
    store.update(key, Changes(last_seen=now, expires_at=record.expires_at, set_user=True))
    loaded = store.load(key)
    assert loaded is not None
    assert loaded.user_id is None
    assert loaded.data == {"a": 1}
    assert store.list_user(user, now) == []
    assert store.delete_user(user) == 0
    assert store.load(key) is not None


def test_binding_a_user_to_a_deleted_session_writes_nothing(
    store: RedisStore, admin: Admin
) -> None:
    key = new_key()
    user = "user-" + new_key()
    changes = Changes(last_seen=1.0, expires_at=FakeClock()() + HOUR, set_user=True, user_id=user)
    assert store.update(key, changes) is False
    assert admin.exists(session_key(store, key), index_key(store, user)) == 0


def test_session_keys_are_hash_tagged_by_the_session_key(tmp_path: Path) -> None:
    store = open_sync(store_url("redis-cluster", tmp_path))
    host, port = store.options.hosts[0]
    cluster = redis.cluster.RedisCluster(host=host, port=port)
    try:
        key = new_key()
        slot = cluster.cluster_keyslot(key)
        assert cluster.cluster_keyslot(session_key(store, key)) == slot
        assert cluster.cluster_keyslot(f"another-prefix:s:{{{key}}}") == slot
        store.create(key, make_record({"a": 1}))
        assert cluster.exists(session_key(store, key)) == 1
    finally:
        cluster.close()
        store.close()


def test_corrupt_record_reads_as_no_session_and_is_removed(store: RedisStore, admin: Admin) -> None:
    key = new_key()
    store.create(key, make_record({"a": 1}))
    admin.hset(session_key(store, key), "d:a", b"{not json")
    assert store.load(key) is None
    assert not admin.exists(session_key(store, key))
    store.create(key, make_record({"a": 1}))
    admin.hdel(session_key(store, key), "m:c")
    assert store.load(key) is None
    assert not admin.exists(session_key(store, key))


def test_a_server_side_error_is_a_plain_store_error(store: RedisStore, admin: Admin) -> None:
    key, other = new_key(), new_key()
    user = "user-" + key
    store.create(new_key(), make_record({}, user_id=user))
    admin.set(index_key(store, "someone-else"), "not a sorted set")
    with pytest.raises(StoreError) as caught:
        store.list_user("someone-else", FakeClock()())
    assert type(caught.value) is StoreError
    assert isinstance(caught.value.__cause__, redis.ResponseError)
    for name in (key, other):  # the scripts' HGET fails on a string
        admin.set(session_key(store, name), "not a hash")
        admin.zadd(index_key(store, user), {name: FakeClock()() + HOUR})
    with pytest.raises(StoreError) as caught:
        store.delete_user(user)  # the error comes back inside a pipeline
    assert type(caught.value) is StoreError
    assert key not in str(caught.value)


# -- a key of another type at a session's key (issue 10) ---------------------------------


def wrong_type_logs(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "corrupt" in r.getMessage()]


def test_a_key_of_another_type_reads_as_no_session_and_is_removed(
    store: RedisStore, admin: Admin, caplog: pytest.LogCaptureFixture
) -> None:
    key = new_key()
    admin.set(session_key(store, key), "set by someone else")
    with caplog.at_level(logging.WARNING, "websession.stores"):
        assert store.load(key) is None
        assert store.load(key) is None
    assert len(wrong_type_logs(caplog)) == 1
    assert not admin.exists(session_key(store, key))
    assert store.create(key, make_record({"a": 1})) is True  # the key is free again


async def test_async_a_key_of_another_type_reads_as_no_session_and_is_removed(
    url: str, admin: Admin, caplog: pytest.LogCaptureFixture
) -> None:
    store = open_async(url)
    try:
        key = new_key()
        name = f"{store.options.prefix}:s:{{{key}}}"
        admin.rpush(name, "a list")
        with caplog.at_level(logging.WARNING, "websession.stores"):
            assert await store.load(key) is None
            assert await store.load(key) is None
        assert len(wrong_type_logs(caplog)) == 1
        assert not admin.exists(name)
    finally:
        await store.close()


def test_a_key_of_another_type_does_not_hide_a_users_other_sessions(
    store: RedisStore, admin: Admin
) -> None:
    good, bad = new_key(), new_key()
    store.create(good, make_record({"a": 1}, user_id="alice-" + good))
    store.create(bad, make_record({"a": 1}, user_id="alice-" + good))
    admin.delete(session_key(store, bad))
    admin.set(session_key(store, bad), "set by someone else")
    found = store.list_user("alice-" + good, FakeClock()())
    assert [key for key, _ in found] == [good]


async def test_a_request_whose_session_key_holds_another_type_gets_a_fresh_session(
    url: str, admin: Admin
) -> None:
    store = open_async(url)
    clients: list[httpx.AsyncClient] = []
    client = client_for(build_app(store), clients)
    try:
        cookie = cookie_of(await client.get("/write", params={"v": "mine"}))
        name = session_key_of(store, hash_token(token_of(cookie)))
        admin.delete(name)
        admin.set(name, "set by someone else")
        response = await client.get("/all", headers=with_cookie(cookie))
        assert response.status_code == 200
        assert response.json() == {}
        assert not admin.exists(name)
    finally:
        for each in clients:
            await each.aclose()
        await store.close()


def session_key_of(store: AsyncRedisStore, key: SessionKey) -> str:
    return f"{store.options.prefix}:s:{{{key}}}"


def test_repr_never_shows_the_password() -> None:
    store = open_sync("redis://app:hunter2@127.0.0.1:1/0")
    try:
        assert "hunter2" not in repr(store)
        assert "127.0.0.1" in repr(store)
    finally:
        store.close()


def flush_scripts(nodes: list[redis.Redis]) -> None:
    for node in nodes:
        node.script_flush()


def test_script_cache_flush_falls_back_to_eval(store: RedisStore, nodes: list[redis.Redis]) -> None:
    now = FakeClock()()
    key, other = new_key(), new_key()
    user = "user-" + new_key()
    record = make_record({"a": 1}, now=now, user_id=user)
    flush_scripts(nodes)
    assert store.create(key, record) is True
    flush_scripts(nodes)
    store.replace(key, other, record)  # a pipeline on a cluster
    flush_scripts(nodes)
    assert store.update(other, Changes(last_seen=now, expires_at=record.expires_at, set={"b": 2}))
    flush_scripts(nodes)
    assert store.delete_user(user) == 1


async def test_async_store_survives_a_script_cache_flush(
    url: str, nodes: list[redis.Redis]
) -> None:
    store = open_async(url)
    try:
        now = FakeClock()()
        key, other = new_key(), new_key()
        record = make_record({"a": 1}, now=now, user_id="user-" + other)
        flush_scripts(nodes)
        assert await store.create(key, record) is True
        flush_scripts(nodes)
        await store.replace(key, other, record)
        loaded = await store.load(other)
        assert loaded is not None
        assert loaded.data == {"a": 1}
    finally:
        await store.close()


def test_max_connections_bounds_the_connections_per_server(
    kind: str, tmp_path: Path, nodes: list[redis.Redis]
) -> None:
    before = [len(node.client_list()) for node in nodes]
    store = open_sync(store_url(kind, tmp_path) + "&max_connections=2")
    try:
        keys = [new_key() for _ in range(30)]
        for key in keys:
            store.create(key, make_record({"a": 1}))
        with ThreadPoolExecutor(max_workers=16) as pool:
            loaded = list(pool.map(store.load, keys * 10))
        assert all(record is not None for record in loaded)
        opened = [len(node.client_list()) - b for node, b in zip(nodes, before, strict=True)]
        # a cluster client also reads the slot table on a connection of its own to one
        # startup node when it (re)initializes, which may not be closed yet
        topology = 1 if kind == "redis-cluster" else 0
        assert max(opened) <= 2 + topology
        assert sum(opened) >= 1
    finally:
        store.close()


# -- URLs ------------------------------------------------------------------------------


def test_url_defaults() -> None:
    options = parse_url("redis://cache.internal:6380/3")
    assert options == RedisOptions(hosts=(("cache.internal", 6380),), db=3)
    assert options.prefix == "websession"
    assert options.connect_timeout == 2.0
    assert options.timeout == 2.0
    assert options.max_connections == 50


def test_url_options() -> None:
    options = parse_url(
        "rediss://app:s%40cret@[::1]/0?prefix=shop&connect_timeout=0.5&timeout=1.5"
        "&max_connections=7"
    )
    assert options.ssl is True
    assert options.hosts == (("::1", 6379),)
    assert options.username == "app"
    assert options.password == "s@cret"
    assert (options.prefix, options.connect_timeout, options.timeout) == ("shop", 0.5, 1.5)
    assert options.max_connections == 7
    assert "s@cret" not in repr(options)


def test_password_only_url() -> None:
    options = parse_url("redis://:pw@localhost")
    assert (options.username, options.password) == (None, "pw")
    assert options.hosts == (("localhost", 6379),)


def test_valkey_url_is_plain_redis() -> None:
    assert parse_url("valkey://h:1/2") == parse_url("redis://h:1/2")


def test_cluster_url_takes_several_startup_nodes() -> None:
    options = parse_url("redis+cluster://a:7000,b:7001,c")
    assert options.cluster is True
    assert options.hosts == (("a", 7000), ("b", 7001), ("c", 6379))


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("memcached://h:1", "redis://"),
        ("redis://a:1,b:2", "one host"),
        ("redis://h:notaport", "host:6379"),
        ("redis://h/zero", "number"),
        ("redis+cluster://h:7000/1", "only database 0"),
        ("redis://h?prefix=", "prefix"),
        ("redis://h?prefix={tag}", "'{'"),
        ("redis://h?timeout=0", "positive"),
        ("redis://h?connect_timeout=soon", "positive"),
        ("redis://h?timeout=inf", "positive"),
        ("redis://h?max_connections=0", "at least 1"),
        ("redis://h?max_connections=many", "at least 1"),
        ("redis://h?prefix=a&prefix=b", "twice"),
        ("redis://h?pool=9", "unknown Redis URL option"),
    ],
)
def test_bad_url_is_a_config_error(url: str, says: str) -> None:
    with pytest.raises(ConfigError, match=says.replace("{", r"\{").replace("+", r"\+")):
        open_sync(url)


def test_config_errors_never_repeat_the_password() -> None:
    with pytest.raises(ConfigError) as caught:
        open_store("redis://user:hunter2-secret@h:1/0?bogus=1")
    assert "hunter2-secret" not in str(caught.value)


def test_open_store_picks_the_redis_store_for_each_scheme() -> None:
    for scheme in ("redis", "rediss", "valkey", "redis+cluster"):
        store = open_store(f"{scheme}://127.0.0.1:1/0")
        try:
            assert isinstance(store, RedisStore)
            assert store.options.cluster is (scheme == "redis+cluster")
        finally:
            store.close()


async def test_open_async_store_picks_the_async_redis_store() -> None:
    for scheme in ("redis", "redis+cluster"):
        store = open_async_store(f"{scheme}://127.0.0.1:1/0?prefix=p")
        try:
            assert isinstance(store, AsyncRedisStore)
            assert store.options.prefix == "p"
        finally:
            await store.close()


# -- the async store's own connections ---------------------------------------------------


async def test_async_max_connections_bounds_the_connections_per_server(
    kind: str, tmp_path: Path, nodes: list[redis.Redis]
) -> None:
    store = open_async(store_url(kind, tmp_path) + "&max_connections=2")
    try:
        keys = [new_key() for _ in range(30)]
        for key in keys:
            await store.create(key, make_record({"a": 1}))
        await store.close()  # a cluster client's startup connections are gone
        await asyncio.sleep(0.1)
        before = [len(node.client_list()) for node in nodes]
        loaded = await asyncio.gather(*(store.load(key) for key in keys * 10))
        assert all(record is not None for record in loaded)
        opened = [len(node.client_list()) - b for node, b in zip(nodes, before, strict=True)]
        # a cluster client also reads the slot table on a connection of its own to one
        # startup node when it (re)initializes, which may not be closed yet
        topology = 1 if kind == "redis-cluster" else 0
        assert max(opened) <= 2 + topology
        assert sum(opened) >= 1
    finally:
        await store.close()


@pytest.fixture
def private_server(tmp_path: Path) -> Iterator[RedisProcess]:
    process = RedisProcess(tmp_path / "redis")
    process.start()
    yield process
    process.signal(signal.SIGCONT)
    process.kill()


async def two_sessions(store: AsyncRedisStore) -> tuple[SessionKey, SessionKey]:
    one, two = new_key(), new_key()
    await store.create(one, make_record({"who": "one"}))
    await store.create(two, make_record({"who": "two"}))
    return one, two


async def test_async_timed_out_command_leaves_no_reply_for_the_next(
    private_server: RedisProcess,
) -> None:
    store = open_async(private_server.url + "?timeout=0.3&max_connections=1")
    try:
        one, two = await two_sessions(store)
        private_server.signal(signal.SIGSTOP)
        with pytest.raises(StoreTimeout):
            await store.load(one)
        private_server.signal(signal.SIGCONT)  # the server now answers the abandoned HGETALL
        loaded = await store.load(two)
        assert loaded is not None
        assert loaded.data == {"who": "two"}
    finally:
        await store.close()


async def test_async_cancelled_command_leaves_no_reply_for_the_next(
    private_server: RedisProcess,
) -> None:
    store = open_async(private_server.url + "?max_connections=1")
    try:
        one, two = await two_sessions(store)
        private_server.signal(signal.SIGSTOP)
        pending = asyncio.create_task(store.load(one))
        await asyncio.sleep(0.1)
        pending.cancel()
        with pytest.raises(asyncio.CancelledError):
            await pending
        private_server.signal(signal.SIGCONT)
        loaded = await store.load(two)
        assert loaded is not None
        assert loaded.data == {"who": "two"}
    finally:
        await store.close()


async def test_async_store_reconnects_after_a_restart(private_server: RedisProcess) -> None:
    store = open_async(private_server.url)
    try:
        key = new_key()
        assert await store.create(key, make_record({"a": 1}))
        private_server.kill()
        with pytest.raises(StoreUnavailable):
            await store.load(key)
        private_server.start()  # durable: the record survived
        loaded = await store.load(key)  # the idle connection died; the store reconnects
        assert loaded is not None
        assert loaded.data == {"a": 1}
    finally:
        await store.close()


async def test_async_idle_connections_die_with_a_restart_and_are_replaced(
    private_server: RedisProcess,
) -> None:
    store = open_async(private_server.url + "?max_connections=4")
    try:
        key = new_key()
        await store.create(key, make_record({"a": 1}))
        await asyncio.gather(*(store.load(key) for _ in range(4)))  # four idle connections
        private_server.kill()
        private_server.start()
        for _ in range(4):  # each finds its connection dead, and is sent once more
            loaded = await store.load(key)
            assert loaded is not None
    finally:
        await store.close()


# -- auto-pipelining (the async store) ----------------------------------------------------


def standalone_reads(node: redis.Redis) -> int:
    return int(node.info("stats")["total_reads_processed"])


async def test_concurrent_requests_share_one_connection_and_get_their_own_replies(
    tmp_path: Path,
) -> None:
    admin = redis.Redis.from_url(server_url("redis"))
    store = open_async(store_url("redis", tmp_path))
    try:
        keys = [new_key() for _ in range(40)]
        for i, key in enumerate(keys):
            await store.create(key, make_record({"i": i}))
        before, clients = standalone_reads(admin), len(admin.client_list())
        loaded = await asyncio.gather(*(store.load(key) for key in keys * 3))
        reads = standalone_reads(admin) - before - 1  # the INFO itself
        assert [r.data["i"] if r else None for r in loaded] == list(range(40)) * 3
        assert len(admin.client_list()) == clients  # no connection opened
        assert reads < 20  # 120 commands, written in a few batches
    finally:
        await store.close()
        admin.close()


async def test_without_autopipeline_each_request_in_flight_has_its_own_connection(
    tmp_path: Path,
) -> None:
    admin = redis.Redis.from_url(server_url("redis"))
    store = open_async(store_url("redis", tmp_path) + "&autopipeline=false&max_connections=8")
    try:
        key = new_key()
        await store.create(key, make_record({"a": 1}))
        clients = len(admin.client_list())
        loaded = await asyncio.gather(*(store.load(key) for _ in range(8)))
        assert all(r is not None and r.data == {"a": 1} for r in loaded)
        assert len(admin.client_list()) > clients
    finally:
        await store.close()
        admin.close()


async def test_a_cancelled_request_on_the_shared_connection_spoils_no_other(
    private_server: RedisProcess,
) -> None:
    store = open_async(private_server.url)
    try:
        one, two = await two_sessions(store)
        private_server.signal(signal.SIGSTOP)
        first = asyncio.create_task(store.load(one))
        second = asyncio.create_task(store.load(two))
        await asyncio.sleep(0.1)
        first.cancel()
        private_server.signal(signal.SIGCONT)
        with pytest.raises(asyncio.CancelledError):
            await first
        loaded = await second
        assert loaded is not None
        assert loaded.data == {"who": "two"}
        again = await store.load(one)
        assert again is not None
        assert again.data == {"who": "one"}
    finally:
        await store.close()


def test_autopipeline_url_option() -> None:
    assert parse_url("redis://h").autopipeline is True
    assert parse_url("redis://h?autopipeline=false").autopipeline is False


# The first loop's connection can only be dropped, not closed, once that loop is closed.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.parametrize("autopipeline", ["true", "false"])
def test_an_async_store_moves_to_a_new_event_loop(tmp_path: Path, autopipeline: str) -> None:
    """A store first used on one loop (an app's startup) keeps working on the next."""
    store = open_async(store_url("redis", tmp_path) + f"&autopipeline={autopipeline}")
    key = new_key()
    assert asyncio.run(store.create(key, make_record({"a": 1})))

    async def load_then_close() -> object:
        try:
            record = await asyncio.wait_for(store.load(key), 5)
            return None if record is None else record.data
        finally:
            await store.close()

    assert asyncio.run(load_then_close()) == {"a": 1}
    gc.collect()  # the first loop's dropped connection goes here, under this test's filter
