"""The async face of the embedded stores: made from the contract, cheap, never blocking."""

from __future__ import annotations

import asyncio
import inspect
import sqlite3
import threading
from pathlib import Path

import pytest

from websession.stores import FileStore, MemoryStore, SQLiteStore
from websession.stores.async_face import AsyncFace, Run, async_face
from websession.stores.base import (
    AsyncIterating,
    AsyncPurging,
    AsyncSchema,
    AsyncStore,
    AsyncUserIndex,
    Iterating,
    Purging,
    Schema,
    Store,
    UserIndex,
)
from websession.stores.file import open_async_file
from websession.stores.memory import open_async_memory
from websession.stores.sqlite import open_async_sqlite
from websession.testing import make_record, new_key
from websession.types import Changes, Record, SessionKey

PAIRS = [
    (Store, AsyncStore),
    (UserIndex, AsyncUserIndex),
    (Purging, AsyncPurging),
    (Iterating, AsyncIterating),
    (Schema, AsyncSchema),
]


def faces(tmp_path: Path) -> list[AsyncStore]:
    return [
        open_async_memory(),
        open_async_file(tmp_path / "files"),
        open_async_sqlite(tmp_path / "s.db"),
    ]


async def test_a_face_claims_exactly_the_abilities_of_its_store(tmp_path: Path) -> None:
    for face in faces(tmp_path):
        assert isinstance(face, AsyncFace)
        claimed = [isinstance(face, async_protocol) for _, async_protocol in PAIRS]
        assert claimed == [isinstance(face.sync, protocol) for protocol, _ in PAIRS]
        await face.close()


async def test_a_face_method_has_the_signature_and_doc_of_the_store_method(
    tmp_path: Path,
) -> None:
    for face in faces(tmp_path):
        assert isinstance(face, AsyncFace)
        for name in ("load", "replace", "delete_user", "scan"):
            method, sync_method = getattr(face, name), getattr(face.sync, name)
            assert inspect.iscoroutinefunction(method)
            assert inspect.signature(method) == inspect.signature(sync_method)
            assert method.__doc__ == sync_method.__doc__
        await face.close()


def test_the_embedded_stores_claim_their_abilities(tmp_path: Path) -> None:
    memory, files, sqlite = MemoryStore(), FileStore(tmp_path), SQLiteStore(":memory:")
    for store in (memory, files, sqlite):
        assert all(isinstance(store, p) for p in (Store, UserIndex, Purging, Iterating))
    assert isinstance(sqlite, Schema)
    assert not isinstance(memory, Schema)
    files.close()
    sqlite.close()


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
async def test_a_read_runs_on_the_loop_thread(kind: str, monkeypatch: pytest.MonkeyPatch) -> None:
    store: MemoryStore | SQLiteStore
    if kind == "memory":
        store = MemoryStore()
        face = async_face(store, Run.INLINE)
    else:
        store = SQLiteStore(":memory:", nonblocking=True)
        face = async_face(store, Run.TRY_INLINE)
    key = new_key()
    await face.create(key, make_record({"a": 1}))
    threads: list[int] = []
    load = store.load

    def spy(key: SessionKey) -> Record | None:
        threads.append(threading.get_ident())
        return load(key)

    monkeypatch.setattr(store, "load", spy)
    assert await face.load(key) is not None
    assert threads == [threading.get_ident()]
    await face.close()


async def test_the_file_face_runs_calls_in_worker_threads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = FileStore(tmp_path)
    face = async_face(store, Run.THREAD)
    threads: list[int] = []
    monkeypatch.setattr(store, "delete", lambda key: threads.append(threading.get_ident()))
    await face.delete(new_key())
    assert len(threads) == 1
    assert threads[0] != threading.get_ident()
    await face.close()


async def test_a_locked_sqlite_write_waits_off_the_loop_and_applies_once(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    face = open_async_sqlite(path)
    key = new_key()
    record = make_record({"n": 0})
    await face.create(key, record)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another connection holds the write lock
    try:
        update = asyncio.create_task(
            face.update(key, Changes(record.last_seen, record.expires_at, set={"n": 1}))
        )
        await asyncio.sleep(0.2)
        assert not update.done()  # waiting, on the store's thread
        loaded = await face.load(key)  # the loop still runs, and reads answer
        assert loaded is not None
        assert loaded.data == {"n": 0}
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert await update is True
    loaded = await face.load(key)
    assert loaded is not None
    assert loaded.data == {"n": 1}
    await face.close()
    await face.close()


def test_try_inline_needs_a_store_that_can_wait() -> None:
    with pytest.raises(TypeError, match="run_waiting"):
        async_face(MemoryStore(), Run.TRY_INLINE)
