"""The dual store (``dual://``): the conformance suite over pairs of stores, sync and
async, and the switch-over rules: reads fall back to the old store and copy over,
writes land in the new one, ended sessions never come back from the old one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import store_url
from websession.core.lifecycle import REVOKED_KEY
from websession.errors import ConfigError
from websession.stores import open_async_store, open_store
from websession.stores.dual import DualStore, dual_url, parse_url
from websession.testing import (
    AsyncHarness,
    FakeClock,
    StoreConformance,
    StoreHarness,
    SyncHarness,
    make_record,
    new_key,
)
from websession.types import Changes

PAIRS = [
    ("sqlite", "file"),
    ("memory", "sqlite"),
    ("redis", "postgres"),
    ("postgres", "redis-cluster"),
]


def pair_url(new: str, old: str, tmp_path: Path) -> str:
    (tmp_path / "new").mkdir(exist_ok=True)
    (tmp_path / "old").mkdir(exist_ok=True)
    return dual_url(store_url(new, tmp_path / "new"), store_url(old, tmp_path / "old"))


@pytest.fixture(params=PAIRS, ids=["-".join(p) for p in PAIRS])
def pair(request: pytest.FixtureRequest) -> tuple[str, str]:
    value: tuple[str, str] = request.param
    return value


@pytest.fixture(params=["sync", "async"])
def mode(request: pytest.FixtureRequest) -> str:
    value: str = request.param
    return value


class TestDualConformance(StoreConformance):
    @pytest.fixture
    def harness(self, pair: tuple[str, str], mode: str, tmp_path: Path) -> Iterator[StoreHarness]:
        url = pair_url(*pair, tmp_path)
        harness: StoreHarness
        if mode == "sync":
            harness = SyncHarness(open_store(url), name="dual-sync")
        else:
            harness = AsyncHarness(lambda: open_async_store(url), name="dual-async")
        yield harness
        harness.close()


@pytest.fixture
def dual(tmp_path: Path) -> Iterator[DualStore]:
    store = open_store(pair_url("sqlite", "file", tmp_path))
    assert isinstance(store, DualStore)
    yield store
    store.close()


def test_a_record_only_in_the_old_store_is_read_and_copied_over(dual: DualStore) -> None:
    key, record = new_key(), make_record({"n": 1}, now=FakeClock()())
    dual.old.create(key, record)
    assert dual.load(key) == record
    assert dual.new.load(key) == record


def test_writes_land_in_the_new_store_only(dual: DualStore) -> None:
    now = FakeClock()()
    key = new_key()
    assert dual.create(key, make_record({"n": 1}, now=now))
    assert dual.old.load(key) is None
    assert dual.update(key, Changes(now, now + 60, set={"n": 2}))
    loaded = dual.new.load(key)
    assert loaded is not None
    assert loaded.data == {"n": 2}


def test_a_patch_of_an_old_record_copies_it_first(dual: DualStore) -> None:
    now = FakeClock()()
    key = new_key()
    dual.old.create(key, make_record({"a": 1}, now=now))
    assert dual.update(key, Changes(now, now + 60, set={REVOKED_KEY: now}))
    loaded = dual.new.load(key)
    assert loaded is not None
    assert loaded.data == {"a": 1, REVOKED_KEY: now}


def test_create_does_not_shadow_an_old_record(dual: DualStore) -> None:
    now = FakeClock()()
    key = new_key()
    dual.old.create(key, make_record({"old": True}, now=now))
    assert not dual.create(key, make_record({"new": True}, now=now))
    loaded = dual.load(key)
    assert loaded is not None
    assert loaded.data == {"old": True}


def test_a_regenerated_session_never_comes_back_from_the_old_store(dual: DualStore) -> None:
    now = FakeClock()()
    old_key, key = new_key(), new_key()
    dual.old.create(old_key, make_record({"a": 1}, now=now))
    assert dual.replace(old_key, key, make_record({"a": 1}, now=now))
    assert dual.load(old_key) is None
    assert dual.old.load(old_key) is None


def test_delete_reaches_both_stores(dual: DualStore) -> None:
    now = FakeClock()()
    key = new_key()
    dual.old.create(key, make_record({}, now=now))
    dual.load(key)
    dual.delete(key)
    assert dual.load(key) is None


def test_bad_dual_urls_say_what_to_write() -> None:
    for url in ("dual://", "dual://?new=memory%3A%2F%2F", "dual://?new=a://&old=b://&x=1"):
        with pytest.raises(ConfigError, match="two percent-encoded store URLs"):
            parse_url(url)
    with pytest.raises(ConfigError, match="cannot itself be dual"):
        parse_url(dual_url("dual://", "memory://"))
