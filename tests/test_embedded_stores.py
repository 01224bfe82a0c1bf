"""What only the embedded stores do: URLs, files on disk, SQLite pragmas, memory purge."""

from __future__ import annotations

import gc
import logging
import sqlite3
import sys
import tracemalloc
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import orjson
import pytest

from websession import ConfigError, StoreError, open_async_store, open_store
from websession.stores import FileStore, MemoryStore, SQLiteStore
from websession.stores.async_face import AsyncFace, Run
from websession.testing import FakeClock, make_record, new_key
from websession.types import Changes


def test_sqlite_url_with_three_slashes_is_relative(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    store = open_store("sqlite:///relative.db")
    assert isinstance(store, SQLiteStore)
    assert store.path == "relative.db"
    store.close()
    assert (tmp_path / "relative.db").exists()


def test_sqlite_url_with_four_slashes_is_absolute(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'abs.db'}")
    assert isinstance(store, SQLiteStore)
    assert store.path == str(tmp_path / "abs.db")
    store.close()


def test_sqlite_without_path_is_in_memory() -> None:
    store = open_store("sqlite://")
    assert isinstance(store, SQLiteStore)
    assert store.path == ":memory:"
    store.close()


def test_sqlite_uses_wal_and_keys_rows_by_hash(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    store = SQLiteStore(path)
    key = new_key()
    store.create(key, make_record({"a": 1}))
    store.close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("SELECT key FROM websession_sessions").fetchall() == [(key,)]


def test_sqlite_store_is_shared_across_connections(tmp_path: Path) -> None:
    one, two = SQLiteStore(tmp_path / "s.db"), SQLiteStore(tmp_path / "s.db")
    key = new_key()
    one.create(key, make_record({"a": 1}))
    loaded = two.load(key)
    assert loaded is not None
    assert loaded.data == {"a": 1}
    one.close()
    two.close()


def test_sqlite_on_an_unusable_path_raises_store_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(StoreError):
        SQLiteStore(blocker / "sessions.db")


AWKWARD_KEYS = ['a"b', "a.b", "$", "$.x", "[0]", "a[1]", "\\", "'", "", " ", "é", "\u2028", "*"]


def test_sqlite_update_sets_and_removes_keys_with_awkward_characters(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.db")
    key = new_key()
    start: dict[str, object] = dict.fromkeys(AWKWARD_KEYS, 0)
    start["keep"] = 1
    store.create(key, make_record(start))
    changes = Changes(
        last_seen=1.0,
        expires_at=2.0,
        set={name: [name, None] for name in AWKWARD_KEYS[:7]},
        remove=frozenset(AWKWARD_KEYS[7:]),
    )
    assert store.update(key, changes)
    loaded = store.load(key)
    assert loaded is not None
    assert loaded.data == {name: [name, None] for name in AWKWARD_KEYS[:7]} | {"keep": 1}
    store.close()


@pytest.mark.parametrize("name", [*AWKWARD_KEYS, "\n", "a\x1fb", "n"])
def test_sqlite_update_of_any_one_key_sets_and_removes_exactly_it(
    name: str, tmp_path: Path
) -> None:
    store = SQLiteStore(tmp_path / "s.db")
    key = new_key()
    start: dict[str, object] = {"keep": {"deep": 1}, name: {"old": 1, "gone": 2}}
    store.create(key, make_record(start))
    assert store.update(key, Changes(1.0, 2.0, set={name: {"new": None}}))
    loaded = store.load(key)
    assert loaded is not None
    assert loaded.data == {"keep": {"deep": 1}, name: {"new": None}}  # replaced, not merged
    assert store.update(key, Changes(1.0, 2.0, remove=frozenset({name})))
    loaded = store.load(key)
    assert loaded is not None
    assert loaded.data == {"keep": {"deep": 1}}
    store.close()


def test_sqlite_update_of_plain_keys_runs_in_sql_and_of_quoted_keys_in_python(
    tmp_path: Path,
) -> None:
    store = SQLiteStore(tmp_path / "s.db")
    key = new_key()
    store.create(key, make_record({"a": 1}))
    statements: list[str] = []
    store._db.set_trace_callback(statements.append)
    assert store.update(key, Changes(1.0, 2.0, set={"b": 2, "c": [3]}, remove=frozenset({"a"})))
    assert store.update(key, Changes(1.0, 2.0, set={'q"uote': 1}))
    assert "json_set" in statements[0]
    assert "json_remove" in statements[0]
    assert "websession_patch" in statements[1]
    loaded = store.load(key)
    assert loaded is not None
    assert loaded.data == {"b": 2, "c": [3], 'q"uote': 1}
    store.close()


def test_sqlite_update_keeps_values_exact(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.db")
    key = new_key()
    store.create(key, make_record({"cart": {"a": 1, "b": 2}}))
    value = {"x": None, "f": 0.1 + 0.2, "big": 2**63 - 1, "t": True, "s": "ü"}
    assert store.update(key, Changes(1.0, 2.0, set={"cart": value, "none": None}))
    loaded = store.load(key)
    assert loaded is not None
    assert loaded.data == {"cart": value, "none": None}
    store.close()


def test_sqlite_update_keeps_data_a_json_object_blob(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    store = SQLiteStore(path)
    key = new_key()
    store.create(key, make_record({"a": 1}))
    store.update(key, Changes(1.0, 2.0, set={"b": [1]}, remove=frozenset({"a"})))
    store.close()
    with sqlite3.connect(path) as db:
        (data,) = db.execute("SELECT data FROM websession_sessions").fetchone()
    assert data == orjson.dumps({"b": [1]})


def test_sqlite_update_is_one_statement(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.db")
    key = new_key()
    store.create(key, make_record({"a": 1}))
    statements: list[str] = []
    store._db.set_trace_callback(statements.append)
    assert store.update(key, Changes(1.0, 2.0, set={"b": 2}, remove=frozenset({"a"})))
    assert not store.update(new_key(), Changes(1.0, 2.0, set={"b": 2}))
    assert [s.split()[0] for s in statements] == ["UPDATE", "UPDATE"]
    store.close()


def test_sqlite_writers_on_separate_connections_never_lose_keys(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    stores = [SQLiteStore(path) for _ in range(4)]
    key = new_key()
    stores[0].create(key, make_record({}))

    def write(index: int) -> None:
        store = stores[index % len(stores)]
        assert store.update(key, Changes(1.0, 2.0, set={f"k{index}": index}))

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(write, range(200)))
    loaded = stores[1].load(key)
    assert loaded is not None
    assert loaded.data == {f"k{index}": index for index in range(200)}
    for store in stores:
        store.close()


def test_sqlite_update_of_corrupt_data_raises_store_error(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    store = SQLiteStore(path)
    key = new_key()
    store.create(key, make_record({"a": 1}))
    with sqlite3.connect(path) as db:
        db.execute("UPDATE websession_sessions SET data = x'7b'")
    with pytest.raises(StoreError):
        store.update(key, Changes(1.0, 2.0, set={"b": 2}))
    store.close()


def test_file_store_names_files_by_the_hash_and_writes_atomically(tmp_path: Path) -> None:
    store = FileStore(tmp_path)
    key = new_key()
    store.create(key, make_record({"a": 1}, user_id="u"))
    assert (tmp_path / "sessions" / key[:2] / f"{key}.json").exists()
    assert not list(tmp_path.glob("sessions/*/.tmp-*"))
    store.close()


@pytest.mark.parametrize("garbage", ["{not json", "[1, 2]", '{"data": []}', ""])
def test_file_store_removes_a_corrupt_record_and_logs_it_once(
    tmp_path: Path, garbage: str, caplog: pytest.LogCaptureFixture
) -> None:
    store = FileStore(tmp_path)
    key = new_key()
    store.create(key, make_record({"a": 1}, user_id="u"))
    path = tmp_path / "sessions" / key[:2] / f"{key}.json"
    path.write_text(garbage)
    with caplog.at_level(logging.WARNING, "websession.stores"):
        assert store.load(key) is None
        assert store.load(key) is None
        assert store.list_user("u", 0.0) == []
    assert not path.exists()
    assert [r.getMessage().count("corrupt") for r in caplog.records] == [1]
    assert key not in caplog.text  # a prefix of the key at most
    store.close()


def test_file_store_scan_and_purge_skip_and_remove_corrupt_records(tmp_path: Path) -> None:
    store = FileStore(tmp_path)
    good, bad = new_key(), new_key()
    store.create(good, make_record({}))
    store.create(bad, make_record({}))
    (tmp_path / "sessions" / bad[:2] / f"{bad}.json").write_bytes(b"\x00garbage")
    page, cursor = store.scan(None, 10)
    assert [k for k, _ in page] == [good]
    assert cursor is None
    assert store.purge_expired(FakeClock()() + 10 * 24 * 3600) == 1
    store.close()


@pytest.mark.parametrize("garbage", [b"{", b"[1]", b'"text"', b"null"])
def test_sqlite_removes_a_corrupt_record_and_logs_it_once(
    tmp_path: Path, garbage: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "s.db"
    store = SQLiteStore(path)
    key, good = new_key(), new_key()
    store.create(key, make_record({"a": 1}, user_id="u"))
    store.create(good, make_record({"b": 2}, user_id="u"))
    with sqlite3.connect(path) as db:
        db.execute("UPDATE websession_sessions SET data = ? WHERE key = ?", (garbage, key))
    with caplog.at_level(logging.WARNING, "websession.stores"):
        assert [k for k, _ in store.list_user("u", 0.0)] == [good]
        assert store.load(key) is None
        assert [k for k, _ in store.scan(None, 10)[0]] == [good]
    assert len(caplog.records) == 1
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT count(*) FROM websession_sessions").fetchone() == (1,)
    store.close()


async def test_async_sqlite_load_of_a_corrupt_record_is_no_session(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    store = open_async_store(f"sqlite:///{path}")
    key = new_key()
    await store.create(key, make_record({"a": 1}))
    with sqlite3.connect(path) as db:
        db.execute("UPDATE websession_sessions SET data = x'7b'")
    assert await store.load(key) is None
    assert await store.load(key) is None
    await store.close()


def test_file_store_in_an_unusable_directory_raises_store_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StoreError):
        FileStore(blocker)


def test_memory_store_purges_expired_records_as_it_goes() -> None:
    clock = FakeClock()
    store = MemoryStore(clock=clock)
    for _ in range(300):
        store.create(new_key(), make_record({}, now=clock(), idle=60))
    clock.advance(120)
    for _ in range(256):
        store.create(new_key(), make_record({}, now=clock(), idle=60))
    assert len(store) < 556


def test_memory_store_holds_small_sessions_in_well_under_a_kilobyte() -> None:
    keys = [new_key() for _ in range(2000)]
    store = MemoryStore()
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for index, key in enumerate(keys):
            store.create(key, make_record({"user": f"user{index}", "n": index}))
        gc.collect()
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert held / len(keys) < 1024


def test_async_store_of_a_file_url_runs_in_threads(tmp_path: Path) -> None:
    store = open_async_store(f"file://{tmp_path}")
    sqlite = open_async_store("sqlite://")
    memory = open_async_store("memory://")
    assert isinstance(store, AsyncFace)
    assert isinstance(sqlite, AsyncFace)
    assert isinstance(memory, AsyncFace)
    assert store.run is Run.THREAD
    assert sqlite.run is Run.TRY_INLINE
    assert memory.run is Run.INLINE
    store.sync.close()
    sqlite.sync.close()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("nonsense", "looks like"),
        ("ftp://host/x", "unknown session store scheme"),
        ("file://", "needs a directory"),
    ],
)
def test_bad_store_urls_say_what_to_do(url: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        open_store(url)


@pytest.mark.parametrize("kind", ["memory", "file", "sqlite"])
def test_a_record_being_updated_never_looks_missing(kind: str, tmp_path: Path) -> None:
    """Readers racing writers always find the record: a reader that saw "no record"
    would hand the user a fresh, empty session (a random logout under load)."""
    urls = {
        "memory": "memory://",
        "file": f"file://{tmp_path / 'sessions'}",
        "sqlite": f"sqlite:///{tmp_path / 's.db'}",
    }
    store = open_store(urls[kind])
    key = new_key()
    store.create(key, make_record({"n": 0}))
    now = FakeClock()()

    def step(i: int) -> bool:
        if i % 2:
            return store.load(key) is not None
        return store.update(key, Changes(now, now + 3600, {"n": i}))

    rounds = 3000 if kind == "memory" else 300
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible: widen any window
    try:
        with ThreadPoolExecutor(4) as pool:
            assert all(pool.map(step, range(2 * rounds)))
    finally:
        sys.setswitchinterval(interval)
        store.close()


def test_sqlite_load_reads_on_the_writer_connection_when_it_is_free(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.db", nonblocking=True)
    key = new_key()
    store.create(key, make_record({"a": 1}))
    loaded = store.load(key)
    assert loaded is not None
    assert loaded.data == {"a": 1}
    assert store._db._readers == []  # no pooled reader was needed
    store.close()


def test_sqlite_load_never_waits_for_a_held_write_lock(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.db", nonblocking=True)
    key = new_key()
    store.create(key, make_record({"a": 1}))
    with store._db._lock:  # a write in progress on this store
        loaded = store.load(key)  # a pooled reader answers
    assert loaded is not None
    assert loaded.data == {"a": 1}
    assert len(store._db._readers) == 1
    store.close()


def test_sqlite_update_assigns_user_id_only_when_the_user_changes(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.db")
    key = new_key()
    store.create(key, make_record({"a": 1}, user_id="u1"))
    statements: list[str] = []
    store._db.set_trace_callback(statements.append)
    assert store.update(key, Changes(1.0, 2.0, set={"b": 2}))
    assert store.update(key, Changes(1.0, 2.0, set={'q"': 2}))
    assert store.update(key, Changes(1.0, 2.0, set={"c": 3}, set_user=True, user_id="u2"))
    assert store.update(key, Changes(1.0, 2.0, set={'q"': 3}, set_user=True, user_id="u3"))
    assert ["user_id" in statement for statement in statements] == [False, False, True, True]
    loaded = store.load(key)
    assert loaded is not None
    assert loaded.user_id == "u3"
    assert loaded.data == {"a": 1, "b": 2, "c": 3, 'q"': 3}
    assert [k for k, _ in store.list_user("u3", 0.0)] == [key]
    assert store.list_user("u1", 0.0) == []
    store.close()


@pytest.mark.parametrize("path", ["s.db", ":memory:"])
def test_sqlite_load_after_close_says_the_store_is_closed(path: str, tmp_path: Path) -> None:
    store = SQLiteStore(path if path == ":memory:" else tmp_path / path, nonblocking=True)
    key = new_key()
    store.create(key, make_record({"a": 1}))
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.load(key)
