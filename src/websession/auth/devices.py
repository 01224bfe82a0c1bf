"""Device metadata: what a login records in the session, and what the user sees.

A login stores, under the reserved key ``DEVICE_KEY`` of its session::

    {"ip": "203.0.113.7", "user_agent": "Mozilla/5.0 ...", "created": 1700000000.0,
     "last_seen": 1700000000.0, "auth_at": 1700000000.0}

``auth_at`` is when the password was last proven in this session (login, password
change): ``require_recent_auth`` compares against it. A ``Device`` is one signed-in
session as the user's devices page shows it; its ``id`` is derived from the store key
by a one-way hash, so a page never shows the store key itself.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from websession.auth.users import User
from websession.core.session import DEVICE_KEY, Session
from websession.types import Record, SessionKey

__all__ = ["AuthenticatedSession", "Device", "auth_time", "device_id", "device_info", "device_of"]


@dataclass(frozen=True, slots=True)
class Device:
    """One signed-in session of a user."""

    id: str
    """Stable public id of the session (not its store key); names it to ``revoke_device``."""
    created_at: datetime
    """When this device logged in."""
    last_seen: datetime
    """When this session was last used (as far as the store was told)."""
    expires_at: datetime
    """The current idle deadline."""
    absolute_expires_at: datetime
    """The latest the session can live, however active."""
    authenticated_at: datetime
    """When the password was last proven in this session."""
    ip: str | None
    """Client address at login."""
    user_agent: str | None
    """User agent at login."""
    current: bool = False
    """True for the session of the request that asked."""


@dataclass(frozen=True, slots=True)
class AuthenticatedSession:
    """A usable session: its user, its store key and its device metadata."""

    user: User
    key: SessionKey
    """The store key (for tools; never send it to a client)."""
    device: Device


def device_id(key: SessionKey) -> str:
    """The public id of the session stored under ``key``."""
    return hashlib.sha256(b"websession-device:" + key.encode()).hexdigest()[:20]


def device_info(
    ip: str | None, user_agent: str | None, now: float, *, max_user_agent: int
) -> dict[str, Any]:
    """The ``DEVICE_KEY`` value recorded at login."""
    return {
        "ip": ip,
        "user_agent": user_agent[:max_user_agent] if user_agent else None,
        "created": now,
        "last_seen": now,
        "auth_at": now,
    }


def device_of(key: SessionKey, record: Record, *, current: bool = False) -> Device:
    """The ``Device`` view of a stored session."""
    info = record.data.get(DEVICE_KEY)
    info = info if isinstance(info, dict) else {}
    last_seen = max(record.last_seen, _number(info.get("last_seen"), record.last_seen))
    return Device(
        id=device_id(key),
        created_at=_dt(_number(info.get("created"), record.created_at)),
        last_seen=_dt(last_seen),
        expires_at=_dt(record.expires_at),
        absolute_expires_at=_dt(record.absolute_expires_at),
        authenticated_at=_dt(_number(info.get("auth_at"), record.created_at)),
        ip=_text(info.get("ip")),
        user_agent=_text(info.get("user_agent")),
        current=current,
    )


def auth_time(session: Session) -> float | None:
    """When the password was last proven in ``session`` (Unix seconds), if ever."""
    info = session.get_internal(DEVICE_KEY)
    if isinstance(info, dict):
        value = info.get("auth_at")
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
    return None


def _number(value: object, default: float) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return default


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _dt(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)
