"""Keys and records for store tests."""

from __future__ import annotations

from websession.core.tokens import hash_token, new_token
from websession.testing.clock import FakeClock
from websession.types import Record, SessionKey

__all__ = ["HOUR", "make_record", "new_key"]

HOUR = 3600.0


def new_key() -> SessionKey:
    """A fresh store key (the hash of a fresh token)."""
    return hash_token(new_token())


def make_record(
    data: dict[str, object] | None = None,
    *,
    now: float | None = None,
    idle: float = HOUR,
    absolute: float = 24 * HOUR,
    user_id: str | None = None,
) -> Record:
    """A record created at ``now`` (the real time by default)."""
    start = FakeClock()() if now is None else now
    return Record(
        data=dict(data or {}),
        created_at=start,
        last_seen=start,
        expires_at=start + idle,
        absolute_expires_at=start + absolute,
        user_id=user_id,
    )
