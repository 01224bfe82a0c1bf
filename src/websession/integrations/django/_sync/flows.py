# Generated from ../_async/flows.py by scripts/generate_sync.py: do not edit.
"""What each method of the Django ``SessionStore`` does to the store.

Async source; ``_sync/flows.py`` is generated from it. Each function takes the Django
session (its state and sans-IO helpers are on ``SessionStore``) and the store, and
does at most the one or two store calls Django's contract needs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib.sessions.backends.base import CreateError, UpdateError

from websession.stores.base import Purging, Store
from websession.types import SessionKey

if TYPE_CHECKING:
    from websession.integrations.django.store import SessionStore

__all__ = [
    "clear_expired",
    "create",
    "cycle_key",
    "delete",
    "exists",
    "load",
    "save",
]


def load(session: SessionStore, store: Store) -> dict[str, object]:
    """One read: the live session's data, else ``{}`` with ``session_key`` reset."""
    key = session.store_key()
    record = None if key is None else store.load(key)
    return session.loaded(record)


def exists(session: SessionStore, store: Store, session_key: str | None) -> bool:
    """True if ``session_key`` is validly signed and names a live session."""
    key = session.policy.store_key(session_key)
    return key is not None and session.policy.is_live(store.load(key))


def create(session: SessionStore, store: Store) -> None:
    """A new key, saved at once with the session's current data (then ``modified``,
    as Django's own backends leave it, so the middleware sends the cookie)."""
    data = session._get_session(no_load=True)
    while True:
        record = session.policy.new_record(data, session.user_id)
        if record is None:  # a custom expiry already past: nothing to keep
            session.restart()
            return
        signed, key = session.policy.mint()
        if store.create(key, record):
            session.stored(signed, record)
            session.modified = True
            return


def save(session: SessionStore, store: Store, must_create: bool) -> None:
    """Create (``must_create``, or no live key) or patch the changed keys; UpdateError
    if the session was deleted or revoked meanwhile (nothing is recreated)."""
    data = session._get_session(no_load=must_create)
    key = session.store_key()  # None if there was none, or the load found it dead
    if key is None:
        create(session, store)
    elif must_create:
        record = session.policy.new_record(data, session.user_id)
        if record is None:
            session.restart()
        elif store.create(key, record):
            session.stored(None, record)
        else:
            raise CreateError
    else:
        _patch(session, store, key, data)


def _patch(session: SessionStore, store: Store, key: SessionKey, data: dict[str, Any]) -> None:
    base = session.record
    if base is None:  # data replaced without a load (clear()): learn what is stored
        base = store.load(key)
        if base is None or not session.policy.is_live(base):
            raise UpdateError
        session.rebase(base)
    changes = session.policy.changes(base, data, session.before, session.user_state())
    if changes is None:  # a custom expiry in the past ends the session now
        store.delete(key)
        session.restart()
        return
    if changes.set or changes.remove or changes.set_user:
        done = store.update(key, changes)
    else:
        done = store.touch(key, changes.last_seen, changes.expires_at)
    if not done:
        raise UpdateError
    session.saved(changes)


def cycle_key(session: SessionStore, store: Store) -> None:
    """A new key for the stored session, by conditional replace: a session logged out
    or revoked elsewhere is not revived (the session starts over, empty)."""
    data = session._get_session()
    key = session.store_key()
    if key is None:  # never stored: the next save mints the key
        return
    base = session.record
    if base is None:
        base = store.load(key)
    if base is None or not session.policy.is_live(base):
        session.restart()
        return
    record = session.policy.carried_record(base, data, session.user_id)
    if record is None:  # a custom expiry already past: the session ends
        store.delete(key)
        session.restart()
        return
    signed, new_key = session.policy.mint()
    if store.replace(key, new_key, record):
        session.stored(signed, record)
        session.modified = True
    else:
        session.restart()


def delete(session: SessionStore, store: Store, session_key: str | None) -> None:
    """Delete the session ``session_key`` names (default: this one); a key with a bad
    signature never reaches the store."""
    own = session_key is None or session_key == session.session_key
    key = session.policy.store_key(session.session_key if session_key is None else session_key)
    if key is not None:
        store.delete(key)
    if own:
        session.detach()


def clear_expired(store: Store, now: float) -> int:
    """Purge expired records in batches where the store has the Purging ability (0
    where the store expires records by itself); return how many."""
    if not isinstance(store, Purging):
        return 0
    total = 0
    while purged := store.purge_expired(now):
        total += purged
    return total
