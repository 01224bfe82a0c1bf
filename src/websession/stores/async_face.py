"""The async face of the embedded stores, built from the contract's method names.

The memory, file and SQLite stores are written once, as sync classes (a dict, files,
``sqlite3``: their natural shape). ``async_face(store, run)`` gives one of them the
``AsyncStore`` shape without listing the contract again: the face's methods are made
from the names of the async protocols in ``websession.stores.base`` (``AsyncStore``,
``AsyncUserIndex`` …), each only if the sync store has it, so ``isinstance`` against an
ability protocol answers for the face as it does for the store. Each method has the
sync method's signature and returns an awaitable of its result.

How a call runs (``Run``):

* ``Run.INLINE``: on the loop thread (memory: a dict lookup costs less than a hop to a
  worker thread would).
* ``Run.THREAD``: in a worker thread (file: ``flock`` and disk reads may block).
* ``Run.TRY_INLINE``: on the loop thread; if the store raises ``WouldBlock`` (SQLite: a
  lock held by another thread or process) the call runs again through the store's
  ``run_waiting`` (a thread that may wait). ``WouldBlock`` promises nothing changed.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Awaitable, Callable
from functools import partial, update_wrapper
from typing import Any, Protocol, TypeVar, cast

from websession.stores.base import (
    AsyncIterating,
    AsyncPurging,
    AsyncSchema,
    AsyncStore,
    AsyncUserIndex,
    Store,
)

__all__ = [
    "ASYNC_PROTOCOLS",
    "AsyncFace",
    "Run",
    "WouldBlock",
    "async_face",
    "face_class",
    "protocol_methods",
]

ASYNC_PROTOCOLS: tuple[type, ...] = (
    AsyncStore,
    AsyncUserIndex,
    AsyncPurging,
    AsyncIterating,
    AsyncSchema,
)
"""The core contract and every ability protocol, in the order they are documented."""


class WouldBlock(Exception):
    """Raised by an embedded store's call that would have to wait for a lock; the call
    changed nothing and may be run again where waiting is allowed."""


class Run(enum.Enum):
    """Where the face runs a store's calls (see the module docstring)."""

    INLINE = "inline"
    THREAD = "thread"
    TRY_INLINE = "try-inline"


class _Waiting(Protocol):
    def run_waiting(self, call: Callable[[], Any]) -> Awaitable[Any]: ...


def protocol_methods(protocols: tuple[type, ...]) -> list[str]:
    """The public method names the protocols declare, in declaration order."""
    names: list[str] = []
    for protocol in protocols:
        for name, value in vars(protocol).items():
            if not name.startswith("_") and callable(value) and name not in names:
                names.append(name)
    return names


class AsyncFace:
    """Base of every face class: holds the sync store (``sync``) and how calls run."""

    __slots__ = ("run", "sync")

    def __init__(self, store: Store, run: Run) -> None:
        self.sync = store
        """The sync store behind the face; both see the same records."""
        self.run = run
        """Where calls run."""

    def __repr__(self) -> str:
        return f"<async {self.sync!r}, {self.run.value}>"


def _method(name: str, run: Run) -> Callable[..., Any]:
    if run is Run.INLINE:

        async def inline(self: AsyncFace, *args: Any, **kwargs: Any) -> Any:
            return getattr(self.sync, name)(*args, **kwargs)

        return inline
    if run is Run.THREAD:

        async def threaded(self: AsyncFace, *args: Any, **kwargs: Any) -> Any:
            return await asyncio.to_thread(getattr(self.sync, name), *args, **kwargs)

        return threaded

    async def try_inline(self: AsyncFace, *args: Any, **kwargs: Any) -> Any:
        method = getattr(self.sync, name)
        try:
            return method(*args, **kwargs)
        except WouldBlock:
            waiting = cast(_Waiting, self.sync)
            return await waiting.run_waiting(partial(method, *args, **kwargs))

    return try_inline


F = TypeVar("F")


def face_class(
    base: type[F], store_type: type, method: Callable[[str], Callable[..., Any]], prefix: str
) -> type[F]:
    """A subclass of ``base`` with ``method(name)`` for every contract method (of
    ``ASYNC_PROTOCOLS``; the sync names are the same) that ``store_type`` has, each with
    the name, docstring and signature of the store's own method."""
    namespace: dict[str, Any] = {"__slots__": ()}
    for name in protocol_methods(ASYNC_PROTOCOLS):
        target = getattr(store_type, name, None)
        if target is not None:
            namespace[name] = update_wrapper(method(name), target)
    return type(prefix + store_type.__name__, (base,), namespace)


_FACES: dict[tuple[type, Run], type[AsyncFace]] = {}


def _face_class(store_type: type, run: Run) -> type[AsyncFace]:
    face = _FACES.get((store_type, run))
    if face is None:
        face = _FACES[store_type, run] = face_class(
            AsyncFace, store_type, lambda name: _method(name, run), "Async"
        )
    return face


def async_face(store: Store, run: Run) -> AsyncStore:
    """The async face of ``store``: every contract method it has, awaitable.

    Typed as ``AsyncStore``; the abilities it claims are found with ``isinstance``
    against ``AsyncUserIndex`` and the other ability protocols, as for any store."""
    if run is Run.TRY_INLINE and not hasattr(store, "run_waiting"):
        raise TypeError(f"{type(store).__name__} has no run_waiting: use Run.INLINE")
    face = _face_class(type(store), run)(store, run)
    # The methods are made from AsyncStore's own names with the sync store's
    # signatures; mypy cannot follow a class built at run time, tests check it.
    return cast(AsyncStore, face)
