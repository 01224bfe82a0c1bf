"""The Session is a dict: full dict behaviour, JSON as it is, patches of what changed."""

from __future__ import annotations

import collections
import copy
import enum
import json
import pickle
from typing import Any, NamedTuple

import orjson
import pytest
from starlette.responses import JSONResponse

from websession import Session, SessionDataError
from websession.core.session import CSRF_KEY, FLASH_KEY, PERMANENT_KEY
from websession.testing import make_record


def stored(data: dict[str, object], **options: Any) -> Session:
    return Session(make_record(data), token="t" * 43, key=None, **options)


class Color(enum.StrEnum):
    RED = "red"


class Level(enum.IntEnum):
    HIGH = 3


class Ratio(float):
    pass


class Point(NamedTuple):
    x: int
    y: int


def test_a_session_is_a_dict() -> None:
    session = stored({"a": 1})
    assert isinstance(session, dict)
    assert session == {"a": 1}


def test_json_orjson_and_jsonresponse_serialize_it_as_it_is() -> None:
    session = stored({"a": 1, "cart": [1, 2]})
    assert json.loads(json.dumps(session)) == {"a": 1, "cart": [1, 2]}
    assert orjson.loads(orjson.dumps(session)) == {"a": 1, "cart": [1, 2]}
    body = bytes(JSONResponse({"session": session}).body)
    assert json.loads(body) == {"session": {"a": 1, "cart": [1, 2]}}


def test_in_place_or_update_sets_the_keys() -> None:
    session = stored({"a": 1})
    session |= {"b": 2}
    assert session == {"a": 1, "b": 2}
    changed, removed, _ = session.pending_changes()
    assert changed == {"b": 2}
    assert removed == frozenset()


def test_update_takes_a_mapping_pairs_and_keywords() -> None:
    session = Session()
    session.update({"a": 1}, b=2)
    session.update([("c", 3)])
    assert session == {"a": 1, "b": 2, "c": 3}


def test_update_with_one_bad_value_sets_nothing() -> None:
    session = stored({"a": 1})
    with pytest.raises(SessionDataError, match="'bad'"):
        session.update({"b": 2, "bad": object()})
    assert session == {"a": 1}
    assert not session.modified


def test_popitem_removes_the_last_inserted_key() -> None:
    session = stored({"a": 1, "b": 2})
    session["c"] = 3
    assert session.popitem() == ("c", 3)
    assert session.popitem() == ("b", 2)
    _, removed, _ = session.pending_changes()
    assert removed == frozenset({"b", "c"})


def test_popitem_of_an_empty_session_raises_key_error() -> None:
    with pytest.raises(KeyError):
        Session().popitem()


def test_pop_of_a_missing_key_is_neither_a_read_nor_a_change() -> None:
    session = stored({"a": 1})
    assert session.pop("missing", "default") == "default"
    with pytest.raises(KeyError):
        session.pop("missing")
    assert not session.accessed
    assert not session.modified


def test_setdefault_returns_the_stored_value() -> None:
    session = Session()
    assert session.setdefault("pair", (1, 2)) == [1, 2]
    assert session.setdefault("pair", "ignored") == [1, 2]


def test_iteration_keeps_insertion_order() -> None:
    session = stored({"b": 1, "a": 2})
    session["c"] = 3
    assert list(session) == ["b", "a", "c"]
    assert list(session.keys()) == ["b", "a", "c"]
    assert [v for _, v in session.items()] == [1, 2, 3]


def test_copy_is_a_plain_dict_and_nested_changes_through_it_are_caught() -> None:
    session = stored({"cart": [1]})
    plain = session.copy()
    assert type(plain) is dict
    plain["cart"].append(2)
    changed, _, _ = session.pending_changes()
    assert changed == {"cart": [1, 2]}


@pytest.mark.parametrize("hand_out", ["items", "values", "dict", "or", "get"])
def test_nested_mutation_through_any_read_is_caught(hand_out: str) -> None:
    session = stored({"cart": {"items": [1]}, "other": 1})
    if hand_out == "items":
        cart = dict(session.items())["cart"]
    elif hand_out == "values":
        cart = next(iter(session.values()))
    elif hand_out == "dict":
        cart = dict(session)["cart"]
    elif hand_out == "or":
        cart = (session | {})["cart"]
    else:
        cart = session.get("cart")
    cart["items"].append(2)
    changed, removed, _ = session.pending_changes()
    assert changed == {"cart": {"items": [1, 2]}}
    assert removed == frozenset()


def test_only_changed_keys_are_in_the_patch() -> None:
    session = stored({"a": 1, "b": [1], "c": {"x": 1}})
    _ = session["b"], session["c"]
    session["a"] = 2
    changed, removed, _ = session.pending_changes()
    assert changed == {"a": 2}
    assert removed == frozenset()


def test_reading_marks_accessed_without_modifying() -> None:
    for read in (len, list, lambda s: "a" in s, lambda s: s.get("a"), lambda s: s.keys()):
        session = stored({"a": 1})
        read(session)
        assert session.accessed
        assert not session.modified


def test_mark_accessed_and_mark_modified_are_starlettes_flags() -> None:
    session = stored({"a": 1})
    session.mark_accessed()
    assert session.accessed
    assert not session.modified
    session.mark_modified()
    changed, _, _ = session.pending_changes()
    assert changed == {"a": 1}


def test_setting_modified_false_forgets_the_changes_so_far() -> None:
    session = stored({"a": 1, "cart": [1]})
    session["b"] = 2
    del session["a"]
    session["cart"].append(2)
    session.modified = False
    assert not session.modified
    assert session.pending_changes() == ({}, frozenset(), False)
    session["cart"].append(3)  # changes after it count again
    assert session.pending_changes()[0] == {"cart": [1, 2, 3]}


def test_setting_modified_false_keeps_a_change_of_user() -> None:
    session = stored({"a": 1})
    session.user_id = "alice"
    session["b"] = 2
    session.modified = False
    assert session.modified
    assert session.pending_changes() == ({}, frozenset(), True)


def test_a_session_is_not_picklable_but_copies_to_a_dict() -> None:
    session = stored({"a": [1]})
    with pytest.raises(TypeError, match="pickl"):
        pickle.dumps(session)
    assert type(copy.copy(session)) is dict
    deep = copy.deepcopy(session)
    assert deep == {"a": [1]}
    assert deep["a"] is not session["a"]


def test_session_of_data_is_new_and_unmodified() -> None:
    session = Session({"a": "1"})
    assert session.is_new
    assert session == {"a": "1"}
    assert not session.modified
    with pytest.raises(SessionDataError):
        Session({"a": object()})


# -- values: subclasses of the JSON types -------------------------------------------------


@pytest.mark.parametrize(
    ("value", "stored_as"),
    [
        (Color.RED, "red"),
        (Level.HIGH, 3),
        (collections.OrderedDict(b=1, a=2), {"b": 1, "a": 2}),
        (collections.defaultdict(list, k=[1]), {"k": [1]}),
        (Ratio(0.5), 0.5),
        (Point(1, 2), [1, 2]),
        ({"nested": [Color.RED, Ratio(1.5)]}, {"nested": ["red", 1.5]}),
        ({Color.RED: 1}, {"red": 1}),
    ],
)
def test_json_type_subclasses_are_stored_as_their_base_type(
    value: object, stored_as: object
) -> None:
    session = stored({})
    session["v"] = value
    changed, _, _ = session.pending_changes()
    assert orjson.loads(orjson.dumps(changed)) == {"v": stored_as}
    assert orjson.loads(orjson.dumps(session.data_view())) == {"v": stored_as}


def test_a_str_enum_names_a_key_as_its_value() -> None:
    session = Session()
    session[Color.RED] = 1
    assert session["red"] == 1
    assert type(next(iter(session))) is str


@pytest.mark.parametrize("value", [b"bytes", {1, 2}, object(), float("nan")])
def test_values_that_are_not_json_are_still_refused(value: object) -> None:
    with pytest.raises(SessionDataError, match="'bad'"):
        Session()["bad"] = value


# -- permanent and emptiness ----------------------------------------------------------------


def test_permanent_defaults_to_the_configuration() -> None:
    assert Session().permanent
    assert not Session(permanent=False).permanent


def test_permanent_is_kept_only_when_it_differs_from_the_default() -> None:
    session = stored({"a": 1})
    session.permanent = True
    assert not session.modified
    session.permanent = False
    assert PERMANENT_KEY in session.data_view()
    assert session.data_view()[PERMANENT_KEY] is False
    session.permanent = True
    assert PERMANENT_KEY not in session.data_view()


def test_permanent_is_read_back_from_the_record() -> None:
    assert not stored({"a": 1, PERMANENT_KEY: False}).permanent
    assert stored({"a": 1, PERMANENT_KEY: True}, permanent=False).permanent


def test_permanent_choice_alone_is_not_content() -> None:
    session = Session()
    session.permanent = False
    assert not session.has_content()
    session.user_id = "alice"
    assert session.has_content()


@pytest.mark.parametrize("data", [{"a": 1}, {CSRF_KEY: "x"}, {FLASH_KEY: [["m", "hi"]]}])
def test_any_key_is_content(data: dict[str, object]) -> None:
    assert stored(data).has_content()


def test_has_content_does_not_mark_accessed() -> None:
    session = stored({"a": 1})
    assert session.has_content()
    assert not session.accessed


def test_a_flask_markup_flash_reads_as_its_html_outside_flask() -> None:
    session = stored({FLASH_KEY: [["warning", {" m": "<em>hi</em>"}], ["info", "plain"]]})
    assert session.pop_flashes("warning") == [("warning", "<em>hi</em>")]
    assert session.data_view()[FLASH_KEY] == [["info", "plain"]]
