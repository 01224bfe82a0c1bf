# Generated from ../_async/revocation.py by scripts/generate_sync.py: do not edit.
"""Revocation: what logout, logout-everywhere and ``websession revoke-user`` all do.

Revoking a session patches ``REVOKED_KEY`` (the time of revocation) into its record
and leaves its deadline alone: the record stays until then, so a replay of its cookie
is told ``session_revoked`` rather than ``invalid_session``, and the engine never
serves it (``Lifecycle``). Only live sessions are revoked; a user's sessions are found
through the store's per-user index (the ``UserIndex`` ability), in time proportional
to that user's sessions, and revoked concurrently on the async side.
"""

from __future__ import annotations

import logging
from typing import Protocol, runtime_checkable

from websession.auth._compat import gather
from websession.core.lifecycle import REVOKED_KEY, Lifecycle
from websession.errors import ConfigError
from websession.stores.base import Store, UserIndex
from websession.types import Changes, Record, SessionKey

__all__ = [
    "IndexedStore",
    "indexed",
    "live_sessions",
    "revoke",
    "revoke_user",
]

logger = logging.getLogger("websession.auth")


@runtime_checkable
class IndexedStore(Store, UserIndex, Protocol):
    """A session store with the per-user index ability: what auth and revoke need."""


def indexed(store: Store) -> IndexedStore:
    """``store``, checked for the per-user index; ConfigError if it has none."""
    if not isinstance(store, IndexedStore):
        raise ConfigError(
            f"the {type(store).__name__} has no per-user index (the UserIndex ability: "
            "list_user, delete_user), which logout-everywhere and the devices list need: "
            "use a store that has one (memory, file, SQLite, Redis, PostgreSQL)"
        )
    return store


def _live(record: Record, now: float) -> bool:
    return Lifecycle.within_deadlines(record, now) and not Lifecycle.is_revoked(record)


def live_sessions(store: IndexedStore, user_id: str, now: float) -> list[tuple[SessionKey, Record]]:
    """The user's live, unrevoked sessions, through the per-user index."""
    found = store.list_user(user_id, now)
    return [(k, r) for k, r in found if r.user_id == user_id and _live(r, now)]


def revoke(store: Store, key: SessionKey, record: Record, now: float) -> bool:
    """Mark ``record`` (stored under ``key``) revoked at ``now``; False if it is gone."""
    changes = Changes(
        last_seen=record.last_seen,
        expires_at=record.expires_at,  # kept until its own deadline, then gone
        set={REVOKED_KEY: now},
    )
    return store.update(key, changes)


def revoke_user(
    store: IndexedStore, user_id: str, now: float, *, keep: SessionKey | None = None
) -> int:
    """Revoke every live session of ``user_id`` but ``keep``; return how many."""
    sessions = live_sessions(store, user_id, now)
    revoked = sum(gather(*(revoke(store, k, r, now) for k, r in sessions if k != keep)))
    if revoked:
        logger.info("websession auth: revoked %d sessions of user %s", revoked, user_id)
    return revoked
