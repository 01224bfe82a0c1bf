"""``SessionStore``: Django's session API over a websession store.

``session_key`` is the signed cookie value websession mints (``<token>.<signature>``);
the store keeps the session under the token's hash only. A key with a bad signature
is ``None`` from the start, so it never reaches the store. ``__init__`` does no I/O;
the first read of the data does one load; ``save()`` writes only the keys whose JSON
changed since the load (a patch), or just moves the deadline. The store calls live in
``flows`` (``_async`` source, ``_sync`` generated); this class keeps the state.
"""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.sessions.backends.base import SessionBase

from websession.core.signing import Verified
from websession.errors import StoreError
from websession.integrations.django import settings as engine_settings
from websession.integrations.django._async import flows as aflows
from websession.integrations.django._sync import flows
from websession.integrations.django.policy import Policy, snapshot
from websession.stores.base import AsyncStore, Store
from websession.types import Changes, Record, SessionKey

__all__ = ["SessionStore"]

logger = logging.getLogger("websession.django")


def _policy() -> tuple[Policy, str]:
    current = engine_settings.current()
    return current.policy, current.store_url


class SessionStore(SessionBase):  # type: ignore[misc]  # Django ships no inline types
    """Django sessions kept in the websession store ``WEBSESSION_STORE``; set
    ``SESSION_ENGINE = "websession.integrations.django"``."""

    _session_key: str | None  # Django's validating property (a signed key, or None)
    _session_cache: dict[str, Any]  # Django's loaded data

    def __init__(self, session_key: str | None = None) -> None:
        self.policy, self._url = _policy()
        self.record: Record | None = None
        """The stored record this session was loaded from or last wrote."""
        self.before: dict[str, bytes] = {}
        """The JSON of each stored value, to patch only what changed."""
        self._user_id: str | None = None
        self._user_changed = False
        self._verified: Verified | None = None
        super().__init__(session_key)

    # -- Django's key rules --------------------------------------------------------------

    def _validate_session_key(self, key: str | None) -> bool:
        """Only a key this secret signed is a key: anything else is None (no I/O).
        Django calls it on every assignment of ``_session_key``."""
        self._verified = self.policy.verify(key)
        return self._verified is not None

    def _get_new_session_key(self) -> str:
        return self.policy.mint()[0]

    async def _aget_new_session_key(self) -> str:
        return self.policy.mint()[0]

    # -- the user binding ------------------------------------------------------------------

    @property
    def user_id(self) -> str | None:
        """The user this session belongs to (the store's per-user index)."""
        return self._user_id

    def bind_user(self, user_id: str | None) -> None:
        """Bind the session to ``user_id`` (None: unbind) at the next save; the auth
        signals call it at login and logout."""
        if user_id != self._user_id:
            self._user_id, self._user_changed = user_id, True
            self.modified = True

    def user_state(self) -> tuple[bool, str | None]:
        """Whether the binding changed since the last write, and the user."""
        return self._user_changed, self._user_id

    # -- state kept between the store calls (used by flows) --------------------------------

    def store_key(self) -> SessionKey | None:
        """The store key of this session's key, if it has a valid one."""
        verified = self._verified
        return None if verified is None else verified.key

    def loaded(self, record: Record | None) -> dict[str, Any]:
        """Take a loaded record: its data if it is live, else ``{}`` and no key."""
        verified = self._verified
        if verified is None or not self.policy.is_live(record):
            self.restart(keep_cache=True)
            return {}
        assert record is not None  # noqa: S101 - is_live checked it
        self.rebase(record)
        self._user_id, self._user_changed = record.user_id, False
        if verified.stale:  # signed by an older secret: send it re-signed
            self._session_key = self.policy.signer.sign(verified.token)
            self.modified = True
        elif self.policy.refresh_due(record):
            self.modified = True  # Django's middleware saves: the deadline moves
        return dict(record.data)

    def rebase(self, record: Record) -> None:
        """Remember ``record`` as what the store holds."""
        self.record = record
        self.before = snapshot(record.data)

    def stored(self, signed: str | None, record: Record) -> None:
        """Remember a record just created (under ``signed``, if new)."""
        if signed is not None:
            self._session_key = signed
        self.rebase(record)
        self._user_changed = False

    def saved(self, changes: Changes) -> None:
        """Remember a patch just written."""
        record = self.record
        assert record is not None  # noqa: S101 - a patch is written over a stored record
        record = record.copy()
        changes.apply(record)
        self.record = record
        self.before.update(snapshot(changes.set))
        for name in changes.remove:
            self.before.pop(name, None)
        self._user_changed = False

    def restart(self, *, keep_cache: bool = False) -> None:
        """Start over as a new, empty session without a key."""
        self._session_key = None
        self.record, self.before = None, {}
        self._user_id, self._user_changed = None, False
        if not keep_cache:
            self._session_cache = {}

    def detach(self) -> None:
        """Forget the stored record (it was deleted)."""
        self.record, self.before = None, {}

    # -- the stores ----------------------------------------------------------------------

    def _store(self) -> Store:
        return engine_settings.shared_store(self._url).sync()

    def _astore(self) -> AsyncStore:
        return engine_settings.shared_store(self._url).async_()

    # -- Django's backend contract -----------------------------------------------------------

    def load(self) -> dict[str, Any]:
        """One read; a dead or unknown key loads ``{}`` and resets ``session_key``."""
        return flows.load(self, self._store())

    async def aload(self) -> dict[str, Any]:
        """See ``load``."""
        return await aflows.load(self, self._astore())

    def exists(self, session_key: str | None) -> bool:
        """True if ``session_key`` names a live session."""
        return flows.exists(self, self._store(), session_key)

    async def aexists(self, session_key: str | None) -> bool:
        """See ``exists``."""
        return await aflows.exists(self, self._astore(), session_key)

    def create(self) -> None:
        """Save the session at once under a new key."""
        flows.create(self, self._store())

    async def acreate(self) -> None:
        """See ``create``."""
        await aflows.create(self, self._astore())

    def save(self, must_create: bool = False) -> None:
        """Write what changed; CreateError / UpdateError as Django defines them."""
        flows.save(self, self._store(), must_create)

    async def asave(self, must_create: bool = False) -> None:
        """See ``save``."""
        await aflows.save(self, self._astore(), must_create)

    def delete(self, session_key: str | None = None) -> None:
        """Delete a session (default: this one)."""
        flows.delete(self, self._store(), session_key)

    async def adelete(self, session_key: str | None = None) -> None:
        """See ``delete``."""
        await aflows.delete(self, self._astore(), session_key)

    def cycle_key(self) -> None:
        """A new key, same data, by conditional replace (see ``flows.cycle_key``)."""
        flows.cycle_key(self, self._store())

    async def acycle_key(self) -> None:
        """See ``cycle_key``."""
        await aflows.cycle_key(self, self._astore())

    @classmethod
    def clear_expired(cls) -> None:
        """Purge expired sessions where the store needs it; logs a failure, never raises."""
        policy, url = _policy()
        try:
            flows.clear_expired(engine_settings.shared_store(url).sync(), policy.clock())
        except StoreError:
            logger.exception("websession: purging expired Django sessions failed")

    @classmethod
    async def aclear_expired(cls) -> None:
        """See ``clear_expired``."""
        policy, url = _policy()
        try:
            await aflows.clear_expired(engine_settings.shared_store(url).async_(), policy.clock())
        except StoreError:
            logger.exception("websession: purging expired Django sessions failed")
