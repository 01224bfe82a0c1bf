"""The backend interface that every integration drives.

Read ``websession.backends`` first: it says which backends exist and how one is chosen.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from websession.config import SessionConfig
from websession.core.cookies import SetCookie
from websession.core.session import Session

__all__ = ["AsyncSessionBackend"]


@runtime_checkable
class AsyncSessionBackend(Protocol):
    """Keeps sessions somewhere (a store, an encrypted cookie): an integration opens a
    request's session, saves it, and closes the backend; it never asks which one it has.

    Optional: ``fresh(session_class=Session) -> Session``, the session ``open`` returns
    for a request without cookies, made without I/O. The built-in backends have it;
    for a backend that has it, the ASGI middleware calls it instead of ``open`` when
    the request sent no cookie, and skips ``save`` when that session stays new and
    empty (``Lifecycle.leaves_nothing``). Any other backend gets every call.
    """

    config: SessionConfig
    """The configuration the backend runs with (cookie name and attributes)."""

    async def open(
        self, cookie_headers: Sequence[str], session_class: type[Session] = Session
    ) -> Session:
        """Return this request's session: the live one its cookie names, else a fresh
        anonymous one of ``session_class``. No I/O without a valid cookie; at most one
        read with one.

        Raises StoreError if the backend's store fails."""
        ...

    async def save(self, session: Session) -> SetCookie | None:
        """Carry out what the request did to ``session`` (the one ``open`` returned;
        at most one write) and return the cookie to send, if any. Raises
        SessionDataError (SessionTooLarge: 413) with nothing written, or StoreError."""
        ...

    async def close(self) -> None:
        """Release the backend's store connections. Idempotent."""
        ...
