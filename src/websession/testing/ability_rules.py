"""Conformance rules of the optional abilities, run for every ability a store claims.

A store claims an ability by having its methods (``isinstance`` against the runtime-
checkable protocol); a test of an ability the store does not claim is skipped.
"""

from __future__ import annotations

import secrets
from typing import TypeVar

import pytest

from websession.stores.base import Iterating, Purging, Schema, Store, UserIndex, record_key
from websession.testing.clock import FakeClock
from websession.testing.harness import StoreHarness
from websession.testing.records import HOUR, make_record, new_key
from websession.types import Record, SessionKey

A = TypeVar("A")

__all__ = ["AbilityRules", "iterating", "purging", "schema", "user_index"]


def _claimed(store: A | None, ability: str) -> A:
    if store is None:
        pytest.skip(f"the store does not claim {ability}")
    return store


def user_index(store: Store) -> UserIndex:
    """The store as a ``UserIndex``, or skip the test."""
    return _claimed(store if isinstance(store, UserIndex) else None, "UserIndex")


def purging(store: Store) -> Purging:
    """The store as ``Purging``, or skip the test."""
    return _claimed(store if isinstance(store, Purging) else None, "Purging")


def iterating(store: Store) -> Iterating:
    """The store as ``Iterating``, or skip the test."""
    return _claimed(store if isinstance(store, Iterating) else None, "Iterating")


def schema(store: Store) -> Schema:
    """The store as ``Schema``, or skip the test."""
    return _claimed(store if isinstance(store, Schema) else None, "Schema")


def scan_all(store: Iterating, limit: int) -> dict[SessionKey, Record]:
    """Every record ``scan`` returns, page by page (a repeat keeps the last copy)."""
    seen: dict[SessionKey, Record] = {}
    cursor: str | None = None
    for _ in range(10_000):
        page, cursor = store.scan(cursor, limit)
        assert cursor is None or isinstance(cursor, str)
        seen.update(page)
        if cursor is None:
            return seen
    raise AssertionError("scan never finished")


class AbilityRules:
    """The abilities; needs a ``harness`` fixture (see ``StoreConformance``)."""

    # -- per-user index ----------------------------------------------------------

    def test_list_user_returns_only_that_users_live_sessions(self, harness: StoreHarness) -> None:
        index = user_index(harness.store)
        now = FakeClock()()
        keys = [new_key() for _ in range(3)]
        for offset, key in enumerate(keys):
            harness.store.create(key, make_record({"i": offset}, now=now + offset, user_id="alice"))
        expired = new_key()
        harness.store.create(expired, make_record({}, now=now - 2 * HOUR, user_id="alice"))
        harness.store.create(new_key(), make_record({}, now=now, user_id="bob"))
        harness.store.create(new_key(), make_record({}, now=now))
        listed = index.list_user("alice", now + 10)
        assert [k for k, _ in listed] == keys
        assert [r.data["i"] for _, r in listed] == [0, 1, 2]

    def test_list_user_of_unknown_user_is_empty(self, harness: StoreHarness) -> None:
        index = user_index(harness.store)
        assert index.list_user("nobody-" + secrets.token_hex(4), FakeClock()()) == []

    def test_delete_user_removes_every_session_of_the_user(self, harness: StoreHarness) -> None:
        index = user_index(harness.store)
        keys = [new_key() for _ in range(5)]
        for key in keys:
            harness.store.create(key, make_record({}, user_id="alice"))
        other = new_key()
        harness.store.create(other, make_record({}, user_id="bob"))
        assert index.delete_user("alice") == 5
        assert all(harness.store.load(k) is None for k in keys)
        assert harness.store.load(other) is not None
        assert index.list_user("alice", FakeClock()()) == []

    def test_delete_user_keeps_the_current_session(self, harness: StoreHarness) -> None:
        index = user_index(harness.store)
        keys = [new_key() for _ in range(3)]
        for key in keys:
            harness.store.create(key, make_record({}, user_id="alice"))
        assert index.delete_user("alice", keep=keys[1]) == 2
        assert harness.store.load(keys[0]) is None
        assert harness.store.load(keys[1]) is not None
        assert [k for k, _ in index.list_user("alice", FakeClock()())] == [keys[1]]

    def test_delete_user_of_unknown_user_is_zero(self, harness: StoreHarness) -> None:
        index = user_index(harness.store)
        assert index.delete_user("nobody-" + secrets.token_hex(4)) == 0

    def test_deleted_session_leaves_the_user_index(self, harness: StoreHarness) -> None:
        index = user_index(harness.store)
        key = new_key()
        record = make_record({"a": 1}, user_id="u")
        harness.store.create(key, record)
        harness.store.delete(key)
        assert index.list_user("u", record.created_at) == []

    def test_replace_moves_the_user_index(self, harness: StoreHarness) -> None:
        index = user_index(harness.store)
        old, new = new_key(), new_key()
        record = make_record({}, user_id="u")
        harness.store.create(old, record)
        assert harness.store.replace(old, new, make_record({}, user_id="u")) is True
        assert [k for k, _ in index.list_user("u", record.created_at)] == [new]

    # -- expiry ------------------------------------------------------------------

    def test_purge_expired_removes_only_expired_records(self, harness: StoreHarness) -> None:
        purger = purging(harness.store)
        now = FakeClock()()
        old = [new_key() for _ in range(3)]
        for key in old:
            harness.store.create(key, make_record({}, now=now - 2 * HOUR, user_id="u"))
        live = new_key()
        harness.store.create(live, make_record({}, now=now, user_id="u"))
        # Stores with server-side TTLs may have dropped them already: count at most 3.
        assert 0 <= purger.purge_expired(now) <= 3
        assert all(harness.store.load(k) is None for k in old)
        assert harness.store.load(live) is not None
        if isinstance(harness.store, UserIndex):
            assert [k for k, _ in harness.store.list_user("u", now)] == [live]

    def test_purge_expired_is_bounded_by_limit(self, harness: StoreHarness) -> None:
        purger = purging(harness.store)
        now = FakeClock()()
        old = [new_key() for _ in range(5)]
        for key in old:
            harness.store.create(key, make_record({}, now=now - 2 * HOUR))
        assert purger.purge_expired(now, limit=2) <= 2
        purger.purge_expired(now, limit=10)
        assert all(harness.store.load(k) is None for k in old)

    # -- iterating -------------------------------------------------------------------

    def test_scan_covers_every_record_in_pages(self, harness: StoreHarness) -> None:
        scanner = iterating(harness.store)
        now = FakeClock()()
        created = {new_key(): make_record({"i": i}, user_id="u") for i in range(7)}
        created[record_key("ratelimit", "alice")] = make_record({"failures": 2})
        created[record_key("revocation", "cookie")] = make_record({})
        expired = new_key()
        for key, record in created.items():
            harness.store.create(key, record)
        harness.store.create(expired, make_record({"old": True}, now=now - 2 * HOUR))
        seen = scan_all(scanner, limit=3)
        # an expired record is returned where the store still holds it (Redis drops it)
        assert set(seen) - {expired} == set(created)
        assert all(seen[key] == record for key, record in created.items())

    def test_scan_in_one_large_page_matches_small_pages(self, harness: StoreHarness) -> None:
        scanner = iterating(harness.store)
        for i in range(5):
            harness.store.create(new_key(), make_record({"i": i}))
        assert scan_all(scanner, limit=1000) == scan_all(scanner, limit=2)

    def test_scan_of_an_empty_store_finds_nothing(self, harness: StoreHarness) -> None:
        assert scan_all(iterating(harness.store), limit=10) == {}

    def test_scan_does_not_return_deleted_records(self, harness: StoreHarness) -> None:
        scanner = iterating(harness.store)
        keep, gone = new_key(), new_key()
        harness.store.create(keep, make_record({}))
        harness.store.create(gone, make_record({}))
        harness.store.delete(gone)
        assert set(scan_all(scanner, limit=10)) == {keep}

    # -- schema ----------------------------------------------------------------------

    def test_setup_is_safe_to_repeat_and_keeps_records(self, harness: StoreHarness) -> None:
        setup = schema(harness.store)
        key = new_key()
        record = make_record({"a": 1})
        harness.store.create(key, record)
        setup.setup()
        setup.setup()
        assert harness.store.load(key) == record
