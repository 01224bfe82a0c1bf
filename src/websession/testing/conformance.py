"""The store conformance suite: every store, sync and async, passes these tests.

Use it for your own store too::

    from websession.testing import StoreConformance, SyncHarness

    class TestMyStore(StoreConformance):
        @pytest.fixture
        def harness(self):
            h = SyncHarness(MyStore(...))
            yield h
            h.close()

The fixture yields a ``StoreHarness`` over a fresh, empty store. Test names state the
rule each test checks.
"""

from __future__ import annotations

import secrets

from websession.core.tokens import hash_token, new_token
from websession.testing.clock import FakeClock
from websession.testing.harness import StoreHarness
from websession.types import Changes, Record, SessionKey

__all__ = ["StoreConformance", "make_record", "new_key"]

HOUR = 3600.0


def new_key() -> SessionKey:
    """A fresh store key (the hash of a fresh token)."""
    return hash_token(new_token())


def make_record(
    data: dict[str, object] | None = None,
    *,
    now: float | None = None,
    idle: float = HOUR,
    absolute: float = 24 * HOUR,
    user_id: str | None = None,
) -> Record:
    """A record created at ``now`` (the real time by default)."""
    start = FakeClock()() if now is None else now
    return Record(
        data=dict(data or {}),
        created_at=start,
        last_seen=start,
        expires_at=start + idle,
        absolute_expires_at=start + absolute,
        user_id=user_id,
    )


class StoreConformance:
    """Contract tests; subclass with a ``harness`` fixture (see the module docstring)."""

    # -- load and create ---------------------------------------------------------

    def test_load_unknown_key_returns_none(self, harness: StoreHarness) -> None:
        assert harness.load(new_key()) is None

    def test_load_does_not_create_record(self, harness: StoreHarness) -> None:
        key = new_key()
        harness.load(key)
        assert harness.update(key, Changes(last_seen=1.0, expires_at=2.0, set={"a": 1})) is False
        assert harness.load(key) is None

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
        assert harness.create(key, record) is True
        loaded = harness.load(key)
        assert loaded == record

    def test_create_never_overwrites(self, harness: StoreHarness) -> None:
        key = new_key()
        assert harness.create(key, make_record({"owner": "first"})) is True
        assert harness.create(key, make_record({"owner": "second"})) is False
        loaded = harness.load(key)
        assert loaded is not None
        assert loaded.data == {"owner": "first"}

    def test_records_are_independent(self, harness: StoreHarness) -> None:
        one, two = new_key(), new_key()
        harness.create(one, make_record({"n": 1}))
        harness.create(two, make_record({"n": 2}))
        harness.delete(one)
        loaded = harness.load(two)
        assert loaded is not None
        assert loaded.data == {"n": 2}

    def test_loaded_data_is_a_copy(self, harness: StoreHarness) -> None:
        key = new_key()
        harness.create(key, make_record({"cart": [1]}))
        loaded = harness.load(key)
        assert loaded is not None
        loaded.data["cart"].append(2)
        again = harness.load(key)
        assert again is not None
        assert again.data == {"cart": [1]}

    # -- update ------------------------------------------------------------------

    def test_update_sets_and_removes_keys(self, harness: StoreHarness) -> None:
        key = new_key()
        record = make_record({"keep": 1, "drop": 2, "change": 3})
        harness.create(key, record)
        changes = Changes(
            last_seen=record.last_seen + 10,
            expires_at=record.expires_at + 10,
            set={"change": [4], "new": {"x": 5}},
            remove=frozenset({"drop", "never-existed"}),
        )
        assert harness.update(key, changes) is True
        loaded = harness.load(key)
        assert loaded is not None
        assert loaded.data == {"keep": 1, "change": [4], "new": {"x": 5}}
        assert loaded.last_seen == record.last_seen + 10
        assert loaded.expires_at == record.expires_at + 10
        assert loaded.created_at == record.created_at
        assert loaded.absolute_expires_at == record.absolute_expires_at

    def test_update_replaces_a_nested_value_whole(self, harness: StoreHarness) -> None:
        key = new_key()
        record = make_record({"prefs": {"a": 1, "b": 2}})
        harness.create(key, record)
        harness.update(
            key,
            Changes(last_seen=record.last_seen, expires_at=record.expires_at, set={"prefs": {}}),
        )
        loaded = harness.load(key)
        assert loaded is not None
        assert loaded.data == {"prefs": {}}

    def test_update_does_not_resurrect_deleted_session(self, harness: StoreHarness) -> None:
        key = new_key()
        record = make_record({"a": 1}, user_id="u")
        harness.create(key, record)
        harness.delete(key)
        changes = Changes(last_seen=record.last_seen, expires_at=record.expires_at, set={"b": 2})
        assert harness.update(key, changes) is False
        assert harness.load(key) is None
        assert harness.list_user("u", record.created_at) == []

    def test_update_binds_user_and_moves_the_index(self, harness: StoreHarness) -> None:
        key = new_key()
        record = make_record({}, user_id="alice")
        harness.create(key, record)
        now = record.created_at
        changes = Changes(last_seen=now, expires_at=record.expires_at, set_user=True, user_id="bob")
        assert harness.update(key, changes) is True
        assert harness.list_user("alice", now) == []
        assert [k for k, _ in harness.list_user("bob", now)] == [key]
        loaded = harness.load(key)
        assert loaded is not None
        assert loaded.user_id == "bob"

    def test_update_without_set_user_keeps_the_user(self, harness: StoreHarness) -> None:
        key = new_key()
        record = make_record({}, user_id="alice")
        harness.create(key, record)
        harness.update(key, Changes(last_seen=1.0, expires_at=record.expires_at, set={"a": 1}))
        loaded = harness.load(key)
        assert loaded is not None
        assert loaded.user_id == "alice"

    def test_concurrent_updates_to_different_keys_both_survive(self, harness: StoreHarness) -> None:
        key = new_key()
        record = make_record({"base": True})
        harness.create(key, record)
        patches = [
            Changes(last_seen=record.last_seen, expires_at=record.expires_at, set={f"k{i}": i})
            for i in range(100)
        ]
        assert all(harness.concurrent_updates(key, patches))
        loaded = harness.load(key)
        assert loaded is not None
        assert loaded.data == {"base": True, **{f"k{i}": i for i in range(100)}}

    # -- touch -------------------------------------------------------------------

    def test_touch_moves_the_deadline_only(self, harness: StoreHarness) -> None:
        key = new_key()
        record = make_record({"a": 1})
        harness.create(key, record)
        assert harness.touch(key, record.last_seen + 5, record.expires_at + 5) is True
        loaded = harness.load(key)
        assert loaded is not None
        assert loaded.data == {"a": 1}
        assert loaded.last_seen == record.last_seen + 5
        assert loaded.expires_at == record.expires_at + 5

    def test_touch_does_not_resurrect_deleted_session(self, harness: StoreHarness) -> None:
        key = new_key()
        record = make_record({"a": 1})
        assert harness.touch(key, record.last_seen, record.expires_at) is False
        assert harness.load(key) is None

    # -- replace and delete ------------------------------------------------------

    def test_replace_creates_the_new_key_and_deletes_the_old(self, harness: StoreHarness) -> None:
        old, new = new_key(), new_key()
        record = make_record({"cart": [1]}, user_id="u")
        harness.create(old, record)
        harness.replace(old, new, make_record({"cart": [1]}, user_id="u"))
        assert harness.load(old) is None
        loaded = harness.load(new)
        assert loaded is not None
        assert loaded.data == {"cart": [1]}
        assert [k for k, _ in harness.list_user("u", record.created_at)] == [new]

    def test_replace_of_a_missing_old_key_still_creates(self, harness: StoreHarness) -> None:
        new = new_key()
        harness.replace(new_key(), new, make_record({"a": 1}))
        assert harness.load(new) is not None

    def test_delete_removes_and_is_idempotent(self, harness: StoreHarness) -> None:
        key = new_key()
        harness.create(key, make_record({"a": 1}))
        harness.delete(key)
        harness.delete(key)
        assert harness.load(key) is None

    # -- per-user index ----------------------------------------------------------

    def test_list_user_returns_only_that_users_live_sessions(self, harness: StoreHarness) -> None:
        now = FakeClock()()
        keys = [new_key() for _ in range(3)]
        for offset, key in enumerate(keys):
            harness.create(key, make_record({"i": offset}, now=now + offset, user_id="alice"))
        expired = new_key()
        harness.create(expired, make_record({}, now=now - 2 * HOUR, user_id="alice"))
        harness.create(new_key(), make_record({}, now=now, user_id="bob"))
        harness.create(new_key(), make_record({}, now=now))
        listed = harness.list_user("alice", now + 10)
        assert [k for k, _ in listed] == keys
        assert [r.data["i"] for _, r in listed] == [0, 1, 2]

    def test_list_user_of_unknown_user_is_empty(self, harness: StoreHarness) -> None:
        assert harness.list_user("nobody-" + secrets.token_hex(4), FakeClock()()) == []

    def test_delete_user_removes_every_session_of_the_user(self, harness: StoreHarness) -> None:
        keys = [new_key() for _ in range(5)]
        for key in keys:
            harness.create(key, make_record({}, user_id="alice"))
        other = new_key()
        harness.create(other, make_record({}, user_id="bob"))
        assert harness.delete_user("alice") == 5
        assert all(harness.load(k) is None for k in keys)
        assert harness.load(other) is not None
        assert harness.list_user("alice", FakeClock()()) == []

    def test_delete_user_keeps_the_current_session(self, harness: StoreHarness) -> None:
        keys = [new_key() for _ in range(3)]
        for key in keys:
            harness.create(key, make_record({}, user_id="alice"))
        assert harness.delete_user("alice", keep=keys[1]) == 2
        assert harness.load(keys[0]) is None
        assert harness.load(keys[1]) is not None
        assert [k for k, _ in harness.list_user("alice", FakeClock()())] == [keys[1]]

    def test_delete_user_of_unknown_user_is_zero(self, harness: StoreHarness) -> None:
        assert harness.delete_user("nobody-" + secrets.token_hex(4)) == 0

    # -- expiry ------------------------------------------------------------------

    def test_purge_expired_removes_only_expired_records(self, harness: StoreHarness) -> None:
        now = FakeClock()()
        old = [new_key() for _ in range(3)]
        for key in old:
            harness.create(key, make_record({}, now=now - 2 * HOUR, user_id="u"))
        live = new_key()
        harness.create(live, make_record({}, now=now, user_id="u"))
        # Stores with server-side TTLs may have dropped them already: count at most 3.
        assert 0 <= harness.purge_expired(now) <= 3
        assert all(harness.load(k) is None for k in old)
        assert harness.load(live) is not None
        assert [k for k, _ in harness.list_user("u", now)] == [live]

    def test_purge_expired_is_bounded_by_limit(self, harness: StoreHarness) -> None:
        now = FakeClock()()
        old = [new_key() for _ in range(5)]
        for key in old:
            harness.create(key, make_record({}, now=now - 2 * HOUR))
        assert harness.purge_expired(now, limit=2) <= 2
        harness.purge_expired(now, limit=10)
        assert all(harness.load(k) is None for k in old)
