"""The engine's output: one small frozen class per store operation.

``SessionEngine.finish`` returns one of them; a backend carries it out with a
``match`` (see ``websession.backends``) and then sends ``cookie``. ``gone`` is the
cookie sent instead when the store finds the record no longer live (logged out,
revoked or regenerated elsewhere): nothing is resurrected, the request ends anonymous
and the browser drops the dead cookie.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import ClassVar, TypeAlias

from websession.core.cookies import SetCookie
from websession.types import Changes, Record, SessionKey

__all__ = ["Create", "Delete", "Nothing", "Op", "Outcome", "Replace", "Touch", "Update"]


class Op(enum.Enum):
    """The name of an outcome's store operation (``outcome.op``), for logs and tests."""

    NOTHING = "nothing"
    CREATE = "create"
    UPDATE = "update"
    TOUCH = "touch"
    DELETE = "delete"
    REPLACE = "replace"


@dataclass(frozen=True, slots=True)
class Nothing:
    """No store operation; ``cookie`` is a re-signed or deleted cookie, if any."""

    op: ClassVar[Op] = Op.NOTHING
    cookie: SetCookie | None = None


@dataclass(frozen=True, slots=True)
class Create:
    """Create ``key`` with ``record`` (a new session)."""

    op: ClassVar[Op] = Op.CREATE
    key: SessionKey
    record: Record
    cookie: SetCookie


@dataclass(frozen=True, slots=True)
class Update:
    """Patch ``key`` with ``changes``; send ``gone`` if the record is gone."""

    op: ClassVar[Op] = Op.UPDATE
    key: SessionKey
    changes: Changes
    cookie: SetCookie
    gone: SetCookie


@dataclass(frozen=True, slots=True)
class Touch:
    """Move ``key``'s idle deadline to ``expires_at``; send ``gone`` if it is gone.
    ``cookie`` is None for a browser-session cookie that did not change."""

    op: ClassVar[Op] = Op.TOUCH
    key: SessionKey
    last_seen: float
    expires_at: float
    cookie: SetCookie | None
    gone: SetCookie


@dataclass(frozen=True, slots=True)
class Delete:
    """Delete ``key`` (destroy); ``cookie`` deletes the browser's cookie."""

    op: ClassVar[Op] = Op.DELETE
    key: SessionKey
    cookie: SetCookie


@dataclass(frozen=True, slots=True)
class Replace:
    """Replace ``old_key`` by ``key`` with ``record`` (regenerate), only while the old
    record is live at ``record.last_seen``; send ``gone`` if it is not."""

    op: ClassVar[Op] = Op.REPLACE
    old_key: SessionKey
    key: SessionKey
    record: Record
    cookie: SetCookie
    gone: SetCookie


Outcome: TypeAlias = Nothing | Create | Update | Touch | Delete | Replace
"""What a finished request needs: exactly one of the operations above."""
