"""File store: one JSON file per session, named by the key, written atomically.

Layout under the directory::

    sessions/<key[:2]>/<key>.json     the record (see ``codec``)
    users/<sha256(user)>/<key>        empty files: the per-user index
    .lock                             serializes writers across processes (flock)

Writes go to a temporary file that replaces the record with ``os.replace``, so a
reader sees the old or the new record, never half of one.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from websession.core.lifecycle import Lifecycle
from websession.errors import StoreError
from websession.stores.base import AsyncStore
from websession.stores.codec import decode_record, encode_record
from websession.types import Changes, Record, SessionKey

__all__ = ["FileStore"]

T = TypeVar("T")


class FileStore:
    """Sessions as files in a directory, for single-host apps without a database."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        self._sessions = self.directory / "sessions"
        self._users = self.directory / "users"
        self._thread_lock = threading.Lock()
        try:
            self._sessions.mkdir(parents=True, exist_ok=True)
            self._users.mkdir(parents=True, exist_ok=True)
            self._lock_file = (self.directory / ".lock").open("a+b")
        except OSError as exc:
            raise StoreError(f"cannot use {self.directory} as a session directory") from exc

    def _path(self, key: SessionKey) -> Path:
        return self._sessions / key[:2] / f"{key}.json"

    def _user_dir(self, user_id: str) -> Path:
        return self._users / hashlib.sha256(user_id.encode()).hexdigest()

    @contextmanager
    def _locked(self) -> Iterator[None]:
        with self._thread_lock:
            fcntl.flock(self._lock_file, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(self._lock_file, fcntl.LOCK_UN)

    def _call(self, fn: Callable[[], T], *, write: bool = True) -> T:
        try:
            if not write:
                return fn()
            with self._locked():
                return fn()
        except OSError as exc:
            raise StoreError("a file session store operation failed") from exc

    def _read(self, key: SessionKey) -> Record | None:
        try:
            raw = self._path(key).read_bytes()
        except FileNotFoundError:
            return None
        return decode_record(raw)

    def _write(self, key: SessionKey, record: Record) -> None:
        path = self._path(key)
        path.parent.mkdir(exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(encode_record(record))
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def _index(self, key: SessionKey, user_id: str | None) -> None:
        if user_id is not None:
            folder = self._user_dir(user_id)
            folder.mkdir(exist_ok=True)
            (folder / key).touch()

    def _unindex(self, key: SessionKey, user_id: str | None) -> None:
        if user_id is not None:
            (self._user_dir(user_id) / key).unlink(missing_ok=True)

    def _remove(self, key: SessionKey) -> bool:
        record = self._read(key)
        if record is None:
            return False
        self._path(key).unlink(missing_ok=True)
        self._unindex(key, record.user_id)
        return True

    def load(self, key: SessionKey) -> Record | None:
        """Read one file."""
        return self._call(lambda: self._read(key), write=False)

    def create(self, key: SessionKey, record: Record) -> bool:
        """Write a new file unless one exists."""

        def run() -> bool:
            if self._path(key).exists():
                return False
            self._write(key, record)
            self._index(key, record.user_id)
            return True

        return self._call(run)

    def update(self, key: SessionKey, changes: Changes) -> bool:
        """Read, patch and replace the file under the directory lock."""

        def run() -> bool:
            record = self._read(key)
            if record is None:
                return False
            old_user = record.user_id
            changes.apply(record)
            self._write(key, record)
            if record.user_id != old_user:
                self._unindex(key, old_user)
                self._index(key, record.user_id)
            return True

        return self._call(run)

    def touch(self, key: SessionKey, last_seen: float, expires_at: float) -> bool:
        """Rewrite the file with the new deadline."""
        return self.update(key, Changes(last_seen=last_seen, expires_at=expires_at))

    def replace(self, old_key: SessionKey, key: SessionKey, record: Record) -> bool:
        """Under the lock: if the old record is live at ``record.last_seen``, write the
        new file and remove the old one; else change nothing and return False."""

        def run() -> bool:
            old = self._read(old_key)
            if old is None or not Lifecycle.is_live(old, record.last_seen):
                return False
            self._write(key, record)
            self._index(key, record.user_id)
            self._remove(old_key)
            return True

        return self._call(run)

    def delete(self, key: SessionKey) -> None:
        """Remove the file if present."""
        self._call(lambda: self._remove(key))

    def list_user(self, user_id: str, now: float) -> list[tuple[SessionKey, Record]]:
        """Read the files named in the user's index folder."""

        def run() -> list[tuple[SessionKey, Record]]:
            folder = self._user_dir(user_id)
            found = []
            for entry in folder.iterdir() if folder.exists() else ():
                key = SessionKey(entry.name)
                record = self._read(key)
                if record is not None and record.expires_at > now:
                    found.append((key, record))
            found.sort(key=lambda item: item[1].created_at)
            return found

        return self._call(run, write=False)

    def delete_user(self, user_id: str, *, keep: SessionKey | None = None) -> int:
        """Remove the files named in the user's index folder, except ``keep``."""

        def run() -> int:
            folder = self._user_dir(user_id)
            if not folder.exists():
                return 0
            count = 0
            for entry in list(folder.iterdir()):
                key = SessionKey(entry.name)
                if key != keep:
                    count += self._remove(key)
                    entry.unlink(missing_ok=True)
            return count

        return self._call(run)

    def purge_expired(self, now: float, *, limit: int = 1000) -> int:
        """Scan the session files and remove up to ``limit`` expired ones."""

        def run() -> int:
            count = 0
            for path in self._sessions.glob("*/*.json"):
                if count >= limit:
                    break
                key = SessionKey(path.stem)
                try:
                    record = self._read(key)
                except StoreError:
                    continue  # a corrupt file is left for an operator to inspect
                if record is not None and record.expires_at <= now:
                    count += self._remove(key)
            return count

        return self._call(run)

    def close(self) -> None:
        """Close the lock file."""
        self._lock_file.close()


def open_async_file(path: str | Path) -> AsyncStore:
    """The async face of a file store in ``path``."""
    from websession.stores.sync_adapter import AsyncAdapter

    return AsyncAdapter(FileStore(path), threaded=True)
