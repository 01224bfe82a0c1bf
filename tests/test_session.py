"""The Session mapping: change tracking, JSON-only values, flash messages."""

from __future__ import annotations

import pytest

from websession import Session, SessionDataError
from websession.core.session import CSRF_KEY
from websession.testing import make_record


def stored(data: dict[str, object]) -> Session:
    return Session(make_record(data), token="t" * 43, key=None)


def test_fresh_session_is_new_and_unmodified() -> None:
    session = Session()
    assert not session.accessed
    assert not session.modified
    assert session.is_new
    assert session.accessed  # reading is_new is a read of the session


def test_reading_a_key_marks_accessed_but_not_modified() -> None:
    session = stored({"a": 1})
    assert session["a"] == 1
    assert session.accessed
    assert not session.modified


def test_setting_and_deleting_are_tracked_as_a_patch() -> None:
    session = stored({"a": 1, "b": 2})
    session["c"] = 3
    del session["a"]
    changed, removed, user_changed = session.pending_changes()
    assert changed == {"c": 3}
    assert removed == frozenset({"a"})
    assert not user_changed


def test_in_place_mutation_of_a_nested_value_is_caught() -> None:
    session = stored({"cart": {"items": [1]}, "other": [0]})
    session["cart"]["items"].append(2)
    _ = session["other"]
    assert session.modified
    changed, _, _ = session.pending_changes()
    assert changed == {"cart": {"items": [1, 2]}}


def test_mutation_through_get_and_setdefault_is_caught() -> None:
    session = stored({"cart": []})
    session.get("cart", []).append("x")
    session.setdefault("new", []).append(1)
    changed, _, _ = session.pending_changes()
    assert changed == {"cart": ["x"], "new": [1]}


def test_mutation_into_a_non_json_value_names_the_key() -> None:
    session = stored({"cart": []})
    session["cart"].append({1, 2})
    with pytest.raises(SessionDataError, match="'cart'"):
        session.pending_changes()


@pytest.mark.parametrize(
    "value",
    [object(), {1, 2}, b"bytes", float("nan"), float("inf"), 2**70, {"k": object()}, {1: "x"}],
)
def test_non_json_values_are_refused_naming_the_key(value: object) -> None:
    session = Session()
    with pytest.raises(SessionDataError, match="'bad'"):
        session["bad"] = value
    assert "bad" not in session.data_view()


def test_non_str_keys_are_refused() -> None:
    session = Session()
    with pytest.raises(SessionDataError, match="str"):
        session[1] = "x"  # type: ignore[index]


@pytest.mark.parametrize(
    "value", ["nul\x00inside", ["ok", "lone \ud800 surrogate"], {"key\x00": 1}, {"\udfff": 1}]
)
def test_text_no_store_can_keep_is_refused_naming_the_key(value: object) -> None:
    session = Session()
    with pytest.raises(SessionDataError, match="'bad'"):
        session["bad"] = value
    assert "bad" not in session.data_view()


@pytest.mark.parametrize("key", ["nul\x00key", "lone \ud800"])
def test_keys_no_store_can_keep_are_refused(key: str) -> None:
    with pytest.raises(SessionDataError, match="cannot be stored"):
        Session()[key] = 1


def test_reserved_keys_are_refused() -> None:
    with pytest.raises(SessionDataError, match="reserved"):
        Session()["_ws_csrf"] = "x"


def test_tuples_are_stored_as_lists() -> None:
    session = Session()
    session["pair"] = (1, 2)
    assert session["pair"] == [1, 2]


def test_deeply_nested_values_are_refused() -> None:
    value: list[object] = []
    for _ in range(100):
        value = [value]
    with pytest.raises(SessionDataError, match="deeper"):
        Session()["deep"] = value


def test_flash_messages_disappear_once_read() -> None:
    session = Session()
    session.flash("saved")
    session.flash("careful", "warning")
    assert session.pop_flashes() == [("message", "saved"), ("warning", "careful")]
    assert session.pop_flashes() == []


def test_flash_by_category_leaves_the_others() -> None:
    session = Session()
    session.flash("a", "error")
    session.flash("b", "info")
    assert session.pop_flashes("error") == [("error", "a")]
    assert session.pop_flashes() == [("info", "b")]


def test_clear_removes_every_key() -> None:
    session = stored({"a": 1, "b": 2})
    session.clear()
    _, removed, _ = session.pending_changes()
    assert removed == frozenset({"a", "b"})


def test_user_id_must_be_a_non_empty_string() -> None:
    session = Session()
    with pytest.raises(TypeError):
        session.user_id = ""
    session.user_id = "u1"
    assert session.modified


def test_metadata_of_a_stored_session() -> None:
    record = make_record({"a": 1})
    session = Session(record, token="t" * 43)
    assert not session.is_new
    assert session.created_at is not None
    assert session.created_at.timestamp() == pytest.approx(record.created_at)
    assert session.expires_at is not None
    assert session.expires_at.timestamp() == pytest.approx(record.expires_at)
    assert Session().created_at is None


def test_internal_values_live_under_reserved_keys() -> None:
    session = Session()
    session.set_internal(CSRF_KEY, "x")
    assert session.get_internal(CSRF_KEY) == "x"
    assert session.pop_internal(CSRF_KEY) == "x"
    assert session.pop_internal(CSRF_KEY) is None
    with pytest.raises(ValueError, match="internal"):
        session.set_internal("plain", 1)
