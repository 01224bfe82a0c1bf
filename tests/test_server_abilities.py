"""The server stores (Redis, Redis Cluster, PostgreSQL, MySQL), sync and async, on the real
test servers: the conditional regenerate under races, the abilities each one claims,
and scans that resume from a cursor in another process's store."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import store_url
from websession.core.lifecycle import REVOKED_KEY
from websession.stores import open_async_store, open_store
from websession.stores.base import (
    AsyncIterating,
    AsyncPurging,
    AsyncSchema,
    AsyncUserIndex,
    Iterating,
    Purging,
    Schema,
    UserIndex,
    record_key,
)
from websession.testing import FakeClock, make_record, new_key
from websession.types import Changes, Record, SessionKey

HOUR = 3600.0


class Side:
    """One store, sync or async, behind plain calls (async ones run on a loop of its own)."""

    def __init__(self, url: str, mode: str) -> None:
        self.mode = mode
        self._runner = asyncio.Runner() if mode == "async" else None
        self.store: Any = (
            open_store(url) if self._runner is None else self._runner.run(self._opened(url))
        )

    @staticmethod
    async def _opened(url: str) -> Any:
        return open_async_store(url)

    def __call__(self, method: str, *args: Any, **kwargs: Any) -> Any:
        result = getattr(self.store, method)(*args, **kwargs)
        return result if self._runner is None else self._runner.run(result)

    def at_once(self, method: str, calls: list[tuple[Any, ...]]) -> list[Any]:
        """Every call of ``method`` started together: threads, or one gather."""
        if self._runner is None:
            with ThreadPoolExecutor(max_workers=len(calls)) as pool:
                return list(pool.map(lambda args: getattr(self.store, method)(*args), calls))

        async def gathered() -> list[Any]:
            return list(await asyncio.gather(*(getattr(self.store, method)(*a) for a in calls)))

        return self._runner.run(gathered())

    def close(self) -> None:
        self("close")
        if self._runner is not None:
            self._runner.close()


@pytest.fixture(params=["redis", "redis-cluster", "postgres", "mysql"])
def kind(request: pytest.FixtureRequest) -> str:
    value: str = request.param
    return value


@pytest.fixture(params=["sync", "async"])
def mode(request: pytest.FixtureRequest) -> str:
    value: str = request.param
    return value


@pytest.fixture
def url(kind: str, tmp_path: Path) -> str:
    return store_url(kind, tmp_path)


@pytest.fixture
def side(url: str, mode: str) -> Iterator[Side]:
    made = Side(url, mode)
    yield made
    made.close()


def carried(base: Record, now: float, **data: Any) -> Record:
    """The record a regenerate writes: same creation and absolute deadline, new data."""
    return Record(
        dict(base.data, **data),
        base.created_at,
        now,
        min(now + HOUR, base.absolute_expires_at),
        base.absolute_expires_at,
        base.user_id,
    )


# -- conditional replace -------------------------------------------------------------


def test_replace_moves_a_live_session_and_its_user_index(side: Side) -> None:
    now = FakeClock()()
    user = "user-" + new_key()
    old, new = new_key(), new_key()
    record = make_record({"cart": [1]}, now=now, user_id=user)
    side("create", old, record)
    assert side("replace", old, new, carried(record, now + 5, signed_in=True)) is True
    assert side("load", old) is None
    loaded = side("load", new)
    assert loaded is not None
    assert loaded.data == {"cart": [1], "signed_in": True}
    assert [key for key, _ in side("list_user", user, now + 5)] == [new]


def test_replace_after_a_revoke_the_request_did_not_see_changes_nothing(side: Side) -> None:
    """A request loaded the session; a logout revoked it meanwhile; the request's
    regenerate must not bring it back under a new key."""
    now = FakeClock()()
    old, new = new_key(), new_key()
    record = make_record({"a": 1}, now=now, user_id="u-" + old)
    side("create", old, record)
    seen = side("load", old)  # the request's read
    side(
        "update",
        old,
        Changes(last_seen=now + 1, expires_at=record.expires_at, set={REVOKED_KEY: now}),
    )
    assert side("replace", old, new, carried(seen, now + 2)) is False
    assert side("load", new) is None
    still = side("load", old)
    assert still is not None
    assert REVOKED_KEY in still.data


def test_replace_after_a_delete_the_request_did_not_see_creates_nothing(side: Side) -> None:
    now = FakeClock()()
    old, new = new_key(), new_key()
    record = make_record({"a": 1}, now=now)
    side("create", old, record)
    seen = side("load", old)
    side("delete", old)
    assert side("replace", old, new, carried(seen, now + 2)) is False
    assert side("load", new) is None
    assert side("load", old) is None


def test_replace_of_a_session_past_a_deadline_changes_nothing(side: Side) -> None:
    now = FakeClock()()
    old, new = new_key(), new_key()
    record = make_record({"a": 1}, now=now, idle=HOUR, absolute=2 * HOUR)
    side("create", old, record)
    late = carried(record, record.expires_at + 1)  # idle deadline passed
    assert side("replace", old, new, late) is False
    assert side("load", new) is None
    assert side("load", old) is not None  # Redis drops it at its TTL, not before
    too_late = carried(record, record.absolute_expires_at)
    assert side("replace", old, new, too_late) is False
    assert side("load", new) is None


def test_concurrent_regenerates_of_one_session_leave_exactly_one(side: Side) -> None:
    now = FakeClock()()
    user = "user-" + new_key()
    old = new_key()
    record = make_record({"a": 1}, now=now, user_id=user)
    side("create", old, record)
    news = [new_key() for _ in range(8)]
    results = side.at_once("replace", [(old, n, carried(record, now + 1)) for n in news])
    assert sorted(results) == [False] * 7 + [True]
    winner = news[results.index(True)]
    assert [n for n in news if side("load", n) is not None] == [winner]
    assert side("load", old) is None
    assert [key for key, _ in side("list_user", user, now + 1)] == [winner]


# -- abilities ---------------------------------------------------------------------------


def test_each_server_store_claims_its_abilities(side: Side, kind: str) -> None:
    abilities: list[type] = (
        [UserIndex, Purging, Iterating, Schema]
        if side.mode == "sync"
        else [AsyncUserIndex, AsyncPurging, AsyncIterating, AsyncSchema]
    )
    claimed = [a.__name__.removeprefix("Async") for a in abilities if isinstance(side.store, a)]
    # Redis expires records itself (no purge) and has no schema to set up
    expected = (
        ["UserIndex", "Iterating"]
        if kind not in ("postgres", "mysql")
        else ["UserIndex", "Purging", "Iterating", "Schema"]
    )
    assert claimed == expected


def scan_pages(side: Side, limit: int, start: str | None = None) -> list[tuple[SessionKey, Record]]:
    found: list[tuple[SessionKey, Record]] = []
    cursor = start
    for _ in range(10_000):
        page, cursor = side("scan", cursor, limit)
        assert len(page) <= 10 * limit + 10
        found += page
        if cursor is None:
            return found
    raise AssertionError("the scan never ended")


def scan_all(side: Side, limit: int, start: str | None = None) -> list[SessionKey]:
    return [key for key, _ in scan_pages(side, limit, start)]


def test_scan_returns_every_record_and_non_session_records(side: Side) -> None:
    now = FakeClock()()
    sessions = {new_key() for _ in range(37)}
    for key in sessions:
        side("create", key, make_record({"k": key}, now=now))
    counter = record_key("ratelimit", "alice")
    side("create", counter, make_record({"failures": 3}, now=now))
    expired = new_key()
    side("create", expired, make_record({}, now=now - 30 * HOUR))  # kept or dropped
    records = dict(scan_pages(side, limit=5))
    assert sessions | {counter} <= set(records) <= sessions | {counter, expired}
    assert records[counter].data == {"failures": 3}
    assert all(records[key].data == {"k": key} for key in sessions)


def test_scan_of_an_empty_store_ends(side: Side) -> None:
    assert scan_all(side, limit=10) == []


def test_scan_resumes_from_a_cursor_in_another_store(url: str, side: Side, mode: str) -> None:
    now = FakeClock()()
    keys = {new_key() for _ in range(30)}
    for key in keys:
        side("create", key, make_record({}, now=now))
    first, cursor = side("scan", None, 10)
    while cursor is not None and not first:
        first, cursor = side("scan", cursor, 10)
    other = Side(url, mode)  # another process's store, with the cursor handed over
    try:
        rest = scan_all(other, limit=10, start=cursor) if cursor is not None else []
    finally:
        other.close()
    assert {key for key, _ in first} | set(rest) == keys


def test_postgres_scan_pages_in_key_order_with_the_last_key_as_cursor(
    tmp_path: Path, mode: str
) -> None:
    side = Side(store_url("postgres", tmp_path), mode)
    try:
        keys = sorted(new_key() for _ in range(25))
        for key in keys:
            side("create", key, make_record({}))
        page, cursor = side("scan", None, 10)
        assert [key for key, _ in page] == keys[:10]
        assert cursor == keys[9]
        assert scan_all(side, limit=10) == keys
        assert side("scan", keys[-1], 10) == ([], None)
    finally:
        side.close()


@pytest.mark.parametrize("kind", ["redis", "redis-cluster"])
def test_redis_rejects_a_cursor_it_did_not_make(side: Side) -> None:
    with pytest.raises(ValueError, match="scan cursor"):
        side("scan", "not a cursor", 10)
