"""The connections of one SQLite store, arranged so that readers never wait for writers.

* **Writes** go through one writer connection, one at a time (a lock): SQLite allows one
  writer per database anyway. A write waits up to the busy timeout for a lock that
  another process holds.
* **Reads** take a connection from a pool (one per concurrent reader, kept for reuse).
  In WAL mode a read needs no lock that a writer holds, so a read answers in
  microseconds while a write of this or another process waits. A primary-key read
  (``read_row``) runs on the writer connection instead when its lock is free at that
  moment (never waiting for it): that connection's page cache survives the store's own
  writes, a pooled reader's is dropped after each one.
* **Non-blocking mode** (the async face): a write on any thread but the store's own
  waiting thread never waits. It tries once, on a second writer connection whose busy
  timeout is zero; if the lock is taken (by a thread of this store or by another
  process) it raises ``WouldBlock`` having changed nothing, and the async face runs it
  again through ``run_waiting``, on the waiting thread, with the full timeout. The
  event loop thread never sleeps on a lock; reads stay direct calls on it.
* ``:memory:`` is one connection for everything (another connection would see another
  database); no other process can lock it.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from websession.errors import StoreError, StoreTimeout
from websession.stores.async_face import WouldBlock

__all__ = ["Connections"]

T = TypeVar("T")

_IDLE_READERS = 16
"""Read connections kept for reuse; more are opened under load and closed after."""


def _store_error(exc: sqlite3.Error) -> StoreError:
    if isinstance(exc, sqlite3.OperationalError) and _is_busy(exc):
        return StoreTimeout("the SQLite session database stayed locked")
    return StoreError("an SQLite session store operation failed")


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
    return "locked" in str(exc) or "busy" in str(exc)


class _Local(threading.local):
    may_wait = False
    """True on the waiting thread (``run_waiting``), where writes wait for locks."""


class Connections:
    """A writer connection behind a lock and a pool of reader connections."""

    def __init__(
        self,
        path: str,
        timeout: float,
        *,
        configure: Callable[[sqlite3.Connection], None],
        nonblocking: bool = False,
    ) -> None:
        self.path = path
        self._timeout = timeout
        self._configure = configure
        self._memory = path == ":memory:"
        self._lock = threading.Lock()
        self._readers: list[sqlite3.Connection] = []
        self._closed = False
        self._waiter: ThreadPoolExecutor | None = None
        self._local = _Local()
        self._trace: Callable[[str], object] | None = None
        self._writer = self._connect(timeout, writer=True)
        self._try_writer: sqlite3.Connection | None = None
        if nonblocking:
            self._try_writer = self._writer if self._memory else self._connect(0, writer=True)

    def _connect(self, timeout: float, *, writer: bool = False) -> sqlite3.Connection:
        db = sqlite3.connect(
            self.path, timeout=timeout, isolation_level=None, check_same_thread=False
        )
        if writer:
            self._configure(db)
        if self._trace is not None:
            db.set_trace_callback(self._trace)
        return db

    def set_trace_callback(self, trace: Callable[[str], object] | None) -> None:
        """Call ``trace`` with every statement any connection runs (tools and benchmarks
        count statements with it); None stops tracing."""
        self._trace = trace
        for db in (self._writer, self._try_writer, *self._readers):
            if db is not None:
                db.set_trace_callback(trace)

    @property
    def writer(self) -> sqlite3.Connection:
        """The connection that waits for locks (the schema is created on it)."""
        return self._writer

    def read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn`` on a reader connection; it never waits for this store's writers."""
        if self._memory:
            return self._locked(fn, self._writer)
        try:
            db = self._readers.pop()  # list.pop and append are atomic: no lock
        except IndexError:
            if self._closed:
                raise StoreError("the SQLite session store is closed") from None
            db = self._new_reader()
        try:
            return fn(db)
        except sqlite3.Error as exc:
            raise _store_error(exc) from exc
        finally:
            if self._closed or len(self._readers) >= _IDLE_READERS:
                db.close()
            else:
                self._readers.append(db)

    def read_row(self, statement: str, params: tuple[object, ...]) -> Any:
        """One row of a short read (a primary-key SELECT): on the writer connection when
        its lock is free, whose page cache this store's own writes keep current (any
        other connection drops its cache after each write: a few microseconds per
        read); else, or if that connection would wait, on a pooled reader."""
        if self._lock.acquire(blocking=False):  # never waits: readers never wait for writers
            try:
                if self._closed:
                    raise StoreError("the SQLite session store is closed")
                db = self._try_writer if self._try_writer is not None else self._writer
                return db.execute(statement, params).fetchone()
            except sqlite3.Error as exc:
                if not (isinstance(exc, sqlite3.OperationalError) and _is_busy(exc)):
                    raise _store_error(exc) from exc
            finally:
                self._lock.release()
        return self.read(lambda db: db.execute(statement, params).fetchone())

    def _new_reader(self) -> sqlite3.Connection:
        try:
            return self._connect(self._timeout)
        except sqlite3.Error as exc:
            raise _store_error(exc) from exc

    def _locked(self, fn: Callable[[sqlite3.Connection], T], db: sqlite3.Connection) -> T:
        with self._lock:
            try:
                return fn(db)
            except sqlite3.Error as exc:
                raise _store_error(exc) from exc

    def write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn`` on the writer connection, one writer at a time. In non-blocking
        mode, off the waiting thread: raise ``WouldBlock`` rather than wait."""
        if self._try_writer is None or self._local.may_wait:
            return self._locked(fn, self._writer)
        if not self._lock.acquire(blocking=False):
            raise WouldBlock
        try:
            return fn(self._try_writer)
        except sqlite3.Error as exc:
            if isinstance(exc, sqlite3.OperationalError) and _is_busy(exc):
                raise WouldBlock from None  # nothing was written: the statement never began
            raise _store_error(exc) from exc
        finally:
            self._lock.release()

    async def run_waiting(self, call: Callable[[], T]) -> T:
        """Run ``call`` on this store's waiting thread, where writes wait for locks."""
        if self._waiter is None:
            self._waiter = ThreadPoolExecutor(
                1, thread_name_prefix="websession-sqlite", initializer=self._may_wait
            )
        return await asyncio.get_running_loop().run_in_executor(self._waiter, call)

    def _may_wait(self) -> None:
        self._local.may_wait = True

    def close(self) -> None:
        """Close every connection; idempotent."""
        self.write(self._close_all)
        if self._waiter is not None:
            self._waiter.shutdown(wait=False)

    def _close_all(self, _db: sqlite3.Connection) -> None:
        if self._closed:
            return
        self._closed = True
        while self._readers:
            self._readers.pop().close()
        if self._try_writer is not None:
            self._try_writer.close()
        self._writer.close()
