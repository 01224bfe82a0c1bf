"""Conformance rules of the core operations: load, create, update, touch, delete.

Every store passes these, including for namespaced (non-session) keys.
"""

from __future__ import annotations

from websession.stores.base import UserIndex, record_key
from websession.testing.harness import StoreHarness
from websession.testing.records import make_record, new_key
from websession.types import Changes

__all__ = ["CoreRules"]


class CoreRules:
    """The core operations; needs a ``harness`` fixture (see ``StoreConformance``)."""

    # -- load and create ---------------------------------------------------------

    def test_load_unknown_key_returns_none(self, harness: StoreHarness) -> None:
        assert harness.store.load(new_key()) is None

    def test_load_does_not_create_record(self, harness: StoreHarness) -> None:
        key = new_key()
        harness.store.load(key)
        assert (
            harness.store.update(key, Changes(last_seen=1.0, expires_at=2.0, set={"a": 1})) is False
        )
        assert harness.store.load(key) is None

    def test_create_then_load_round_trips_every_field(self, harness: StoreHarness) -> None:
        key = new_key()
        data = {
            "text": "héllo ✓ \u0001 \"quoted\" 'single' \U0001f600",
            "int": 2**53 + 1,
            "neg": -7,
            "float": 1.5,
            "flags": [True, False, None],
            "nested": {"list": [1, {"deep": ["x"]}], "empty": {}},
            "key.with.dots": "$.path",
            'key"quote': 1,
        }
        record = make_record(data, user_id="user-1")
        assert harness.store.create(key, record) is True
        loaded = harness.store.load(key)
        assert loaded == record

    def test_create_never_overwrites(self, harness: StoreHarness) -> None:
        key = new_key()
        assert harness.store.create(key, make_record({"owner": "first"})) is True
        assert harness.store.create(key, make_record({"owner": "second"})) is False
        loaded = harness.store.load(key)
        assert loaded is not None
        assert loaded.data == {"owner": "first"}

    def test_records_are_independent(self, harness: StoreHarness) -> None:
        one, two = new_key(), new_key()
        harness.store.create(one, make_record({"n": 1}))
        harness.store.create(two, make_record({"n": 2}))
        harness.store.delete(one)
        loaded = harness.store.load(two)
        assert loaded is not None
        assert loaded.data == {"n": 2}

    def test_loaded_data_is_a_copy(self, harness: StoreHarness) -> None:
        key = new_key()
        harness.store.create(key, make_record({"cart": [1]}))
        loaded = harness.store.load(key)
        assert loaded is not None
        loaded.data["cart"].append(2)
        again = harness.store.load(key)
        assert again is not None
        assert again.data == {"cart": [1]}

    # -- update ------------------------------------------------------------------

    def test_update_sets_and_removes_keys(self, harness: StoreHarness) -> None:
        key = new_key()
        record = make_record({"keep": 1, "drop": 2, "change": 3})
        harness.store.create(key, record)
        changes = Changes(
            last_seen=record.last_seen + 10,
            expires_at=record.expires_at + 10,
            set={"change": [4], "new": {"x": 5}},
            remove=frozenset({"drop", "never-existed"}),
        )
        assert harness.store.update(key, changes) is True
        loaded = harness.store.load(key)
        assert loaded is not None
        assert loaded.data == {"keep": 1, "change": [4], "new": {"x": 5}}
        assert loaded.last_seen == record.last_seen + 10
        assert loaded.expires_at == record.expires_at + 10
        assert loaded.created_at == record.created_at
        assert loaded.absolute_expires_at == record.absolute_expires_at

    def test_update_replaces_a_nested_value_whole(self, harness: StoreHarness) -> None:
        key = new_key()
        record = make_record({"prefs": {"a": 1, "b": 2}})
        harness.store.create(key, record)
        harness.store.update(
            key,
            Changes(last_seen=record.last_seen, expires_at=record.expires_at, set={"prefs": {}}),
        )
        loaded = harness.store.load(key)
        assert loaded is not None
        assert loaded.data == {"prefs": {}}

    def test_update_does_not_resurrect_deleted_session(self, harness: StoreHarness) -> None:
        key = new_key()
        record = make_record({"a": 1}, user_id="u")
        harness.store.create(key, record)
        harness.store.delete(key)
        changes = Changes(last_seen=record.last_seen, expires_at=record.expires_at, set={"b": 2})
        assert harness.store.update(key, changes) is False
        assert harness.store.load(key) is None

    def test_update_binds_user_and_moves_the_index(self, harness: StoreHarness) -> None:
        store = harness.store
        key = new_key()
        record = make_record({}, user_id="alice")
        store.create(key, record)
        now = record.created_at
        changes = Changes(last_seen=now, expires_at=record.expires_at, set_user=True, user_id="bob")
        assert store.update(key, changes) is True
        loaded = store.load(key)
        assert loaded is not None
        assert loaded.user_id == "bob"
        if isinstance(store, UserIndex):  # the index moves with the user
            assert store.list_user("alice", now) == []
            assert [k for k, _ in store.list_user("bob", now)] == [key]

    def test_update_without_set_user_keeps_the_user(self, harness: StoreHarness) -> None:
        key = new_key()
        record = make_record({}, user_id="alice")
        harness.store.create(key, record)
        harness.store.update(
            key, Changes(last_seen=1.0, expires_at=record.expires_at, set={"a": 1})
        )
        loaded = harness.store.load(key)
        assert loaded is not None
        assert loaded.user_id == "alice"

    def test_concurrent_updates_to_different_keys_both_survive(self, harness: StoreHarness) -> None:
        key = new_key()
        record = make_record({"base": True})
        harness.store.create(key, record)
        patches = [
            Changes(last_seen=record.last_seen, expires_at=record.expires_at, set={f"k{i}": i})
            for i in range(100)
        ]
        assert all(harness.concurrent_updates(key, patches))
        loaded = harness.store.load(key)
        assert loaded is not None
        assert loaded.data == {"base": True, **{f"k{i}": i for i in range(100)}}

    # -- touch -------------------------------------------------------------------

    def test_touch_moves_the_deadline_only(self, harness: StoreHarness) -> None:
        key = new_key()
        record = make_record({"a": 1})
        harness.store.create(key, record)
        assert harness.store.touch(key, record.last_seen + 5, record.expires_at + 5) is True
        loaded = harness.store.load(key)
        assert loaded is not None
        assert loaded.data == {"a": 1}
        assert loaded.last_seen == record.last_seen + 5
        assert loaded.expires_at == record.expires_at + 5

    def test_touch_does_not_resurrect_deleted_session(self, harness: StoreHarness) -> None:
        key = new_key()
        record = make_record({"a": 1})
        assert harness.store.touch(key, record.last_seen, record.expires_at) is False
        assert harness.store.load(key) is None

    def test_delete_removes_and_is_idempotent(self, harness: StoreHarness) -> None:
        key = new_key()
        harness.store.create(key, make_record({"a": 1}))
        harness.store.delete(key)
        harness.store.delete(key)
        assert harness.store.load(key) is None

    # -- namespaced records ----------------------------------------------------------

    def test_namespaced_record_round_trips_through_every_operation(
        self, harness: StoreHarness
    ) -> None:
        store = harness.store
        key = record_key("ratelimit", "alice@example.com")
        record = make_record({"failures": 1})
        assert store.create(key, record) is True
        assert store.load(key) == record
        later = record.last_seen + 5
        assert store.update(key, Changes(later, record.expires_at, set={"failures": 2})) is True
        assert store.touch(key, later + 5, record.expires_at + 5) is True
        loaded = store.load(key)
        assert loaded is not None
        assert loaded.data == {"failures": 2}
        assert (loaded.last_seen, loaded.expires_at) == (later + 5, record.expires_at + 5)
        store.delete(key)
        assert store.load(key) is None
        assert store.update(key, Changes(later, record.expires_at, set={"a": 1})) is False

    def test_namespaced_record_never_collides_with_a_session(self, harness: StoreHarness) -> None:
        session = new_key()
        counter = record_key("ratelimit", session)
        revocation = record_key("revocation", session)
        for number, key in enumerate((session, counter, revocation)):
            assert harness.store.create(key, make_record({"n": number})) is True
        harness.store.delete(counter)
        loaded = [harness.store.load(k) for k in (session, counter, revocation)]
        assert [r.data["n"] if r else None for r in loaded] == [0, None, 2]
