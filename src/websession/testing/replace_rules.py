"""Conformance rules of ``replace``: conditional, atomic, never reviving what ended.

``replace(old, new, record)`` happens only while ``old`` is live at ``record.last_seen``
(before both deadlines, not revoked); otherwise it returns False and changes nothing.
"""

from __future__ import annotations

from websession.core.lifecycle import REVOKED_KEY
from websession.stores.base import record_key
from websession.testing.harness import StoreHarness
from websession.testing.records import HOUR, make_record, new_key
from websession.types import Record, SessionKey

__all__ = ["ReplaceRules"]


def _regenerated(old: Record, at: float) -> Record:
    """The record a regenerate at ``at`` writes for ``old`` (deadlines carried)."""
    return Record(
        dict(old.data),
        old.created_at,
        at,
        min(at + HOUR, old.absolute_expires_at),
        old.absolute_expires_at,
        old.user_id,
    )


class ReplaceRules:
    """``replace``; needs a ``harness`` fixture (see ``StoreConformance``)."""

    def _refused(
        self, harness: StoreHarness, old: SessionKey, replacement: Record, before: Record | None
    ) -> None:
        """Assert that replacing ``old`` is refused and changes nothing."""
        new = new_key()
        assert harness.store.replace(old, new, replacement) is False
        assert harness.store.load(new) is None
        assert harness.store.load(old) == before

    def test_replace_creates_the_new_key_and_deletes_the_old(self, harness: StoreHarness) -> None:
        old, new = new_key(), new_key()
        record = make_record({"cart": [1]}, user_id="u")
        harness.store.create(old, record)
        replacement = _regenerated(record, record.last_seen + 1)
        assert harness.store.replace(old, new, replacement) is True
        assert harness.store.load(old) is None
        assert harness.store.load(new) == replacement

    def test_replace_of_a_missing_old_key_creates_nothing(self, harness: StoreHarness) -> None:
        self._refused(harness, new_key(), make_record({"a": 1}), None)

    def test_replace_of_a_deleted_session_creates_nothing(self, harness: StoreHarness) -> None:
        old = new_key()
        record = make_record({"a": 1})
        harness.store.create(old, record)
        harness.store.delete(old)  # logged out elsewhere
        self._refused(harness, old, _regenerated(record, record.last_seen), None)

    def test_replace_does_not_revive_revoked_session(self, harness: StoreHarness) -> None:
        old = new_key()
        record = make_record({"a": 1, REVOKED_KEY: 1.0}, user_id="u")
        harness.store.create(old, record)
        self._refused(harness, old, _regenerated(record, record.last_seen), record)

    def test_replace_of_an_idle_expired_session_creates_nothing(
        self, harness: StoreHarness
    ) -> None:
        old = new_key()
        record = make_record({"a": 1}, idle=HOUR)
        harness.store.create(old, record)
        later = record.last_seen + 2 * HOUR  # past the idle deadline, not yet in real time
        self._refused(harness, old, _regenerated(record, later), record)

    def test_replace_at_the_idle_deadline_creates_nothing(self, harness: StoreHarness) -> None:
        old = new_key()
        record = make_record({"a": 1}, idle=HOUR)
        harness.store.create(old, record)
        at = record.expires_at  # live means strictly before the deadline
        self._refused(harness, old, _regenerated(record, at), record)

    def test_replace_after_the_absolute_deadline_creates_nothing(
        self, harness: StoreHarness
    ) -> None:
        old = new_key()
        start = make_record().created_at
        record = Record({"a": 1}, start, start, start + 3 * HOUR, start + HOUR)
        harness.store.create(old, record)
        later = start + 2 * HOUR  # before the idle deadline, after the absolute one
        replacement = Record({"a": 1}, start, later, later + HOUR, later + HOUR)
        self._refused(harness, old, replacement, record)

    def test_refused_replace_does_not_touch_an_existing_new_key(
        self, harness: StoreHarness
    ) -> None:
        old, new = new_key(), new_key()
        existing = make_record({"owner": "other"})
        harness.store.create(new, existing)
        assert harness.store.replace(old, new, make_record({"owner": "me"})) is False
        assert harness.store.load(new) == existing

    def test_concurrent_replace_leaves_one_live_copy(self, harness: StoreHarness) -> None:
        old = new_key()
        record = make_record({"cart": [1]})
        harness.store.create(old, record)
        news = [new_key() for _ in range(8)]
        calls = [(old, new, _regenerated(record, record.last_seen + 1)) for new in news]
        results = harness.concurrently("replace", calls)
        assert sorted(results) == [False] * 7 + [True]
        assert harness.store.load(old) is None
        live = [new for new in news if harness.store.load(new) is not None]
        assert live == [news[results.index(True)]]

    def test_replace_moves_a_namespaced_record(self, harness: StoreHarness) -> None:
        old, new = record_key("ratelimit", "a"), record_key("ratelimit", "b")
        record = make_record({"failures": 3})
        harness.store.create(old, record)
        assert harness.store.replace(old, new, _regenerated(record, record.last_seen)) is True
        assert harness.store.load(old) is None
        assert harness.store.load(new) is not None
