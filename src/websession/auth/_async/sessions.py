"""Signed-in sessions: authenticate, refresh, logout (one or everywhere), devices."""

from __future__ import annotations

from websession.auth._async.base import AsyncAuthBase
from websession.auth._async.revocation import live_sessions, revoke, revoke_user
from websession.auth.credentials import detach, session_key
from websession.auth.devices import AuthenticatedSession, Device, device_id, device_of
from websession.auth.errors import InvalidSession, SessionExpired, SessionRevoked
from websession.auth.users import User
from websession.core.session import DEVICE_KEY, Session
from websession.events import Event, EventName, prefix
from websession.types import Changes, Record, SessionKey

__all__ = ["AsyncSessions"]


class AsyncSessions(AsyncAuthBase):
    """Signed-in sessions and devices; part of the auth service."""

    async def authenticate_session(
        self, credential: str | Session | None = None, *, key: SessionKey | None = None
    ) -> AuthenticatedSession:
        """Return the user and device of a signed-in session, straight from the store.

        ``credential`` is a signed cookie value or token from the client, or a
        ``Session``; ``key=`` (for tools, never from a client) a store key. Raises
        SessionRevoked, SessionExpired, or InvalidSession (malformed, forged, unknown,
        not signed in, or the user is gone).
        """
        found, record, user = await self._usable(self.credentials.key_of(credential, key))
        return AuthenticatedSession(user, found, device_of(found, record))

    async def refresh_session(
        self, credential: str | Session | None = None, *, key: SessionKey | None = None
    ) -> AuthenticatedSession:
        """Extend a usable session's idle deadline (never past its absolute one) and
        note it was seen now. Raises as ``authenticate_session`` does."""
        found, record, user = await self._usable(self.credentials.key_of(credential, key))
        now = self.clock()
        expires = max(record.expires_at, self.lifecycle.extended(record, now))
        info = record.data.get(DEVICE_KEY)
        info = dict(info) if isinstance(info, dict) else {}
        info["last_seen"] = now
        changes = Changes(last_seen=now, expires_at=expires, set={DEVICE_KEY: info})
        if not await self.sessions.update(found, changes):
            raise InvalidSession
        record.data[DEVICE_KEY] = info
        record.last_seen, record.expires_at = now, expires
        return AuthenticatedSession(user, found, device_of(found, record))

    async def logout(
        self,
        credential: str | Session | None = None,
        *,
        key: SessionKey | None = None,
        everywhere: bool = False,
    ) -> int:
        """Revoke a session (with ``everywhere``, every session of its user); return
        how many were revoked.

        The record stays, marked revoked, until its deadline, so a replay is told
        ``session_revoked``. Given the request's ``Session``, the response also drops
        the cookie; anything stored in the session afterwards (a flash message) goes
        into a new anonymous session. Revoking nothing (unknown, already revoked or
        expired) is not an error.
        """
        found = self.credentials.key_of(credential, key)
        revoked = await self._revoke(found, everywhere)
        if self.events and revoked:
            name = EventName.LOGOUT_EVERYWHERE if everywhere else EventName.LOGOUT
            await self.events.emit_async(Event(name, self.clock(), prefix(found), count=revoked))
        if isinstance(credential, Session):
            detach(credential)
        return revoked

    async def logout_user(self, user_id: str, *, keep: Session | SessionKey | None = None) -> int:
        """Revoke every session of ``user_id`` but ``keep`` (e.g. the current one);
        return how many. Time is proportional to that user's sessions."""
        count = await revoke_user(self.sessions, user_id, self.clock(), keep=session_key(keep))
        if self.events and count:
            event = Event(EventName.LOGOUT_EVERYWHERE, self.clock(), None, user_id, count=count)
            await self.events.emit_async(event)
        return count

    async def list_sessions(
        self, user_id: str, *, current: Session | SessionKey | None = None
    ) -> list[Device]:
        """The user's signed-in devices (revoked and expired sessions left out): the
        current one first, then the most recently seen."""
        mine = session_key(current)
        sessions = await live_sessions(self.sessions, user_id, self.clock())
        devices = [device_of(k, r, current=k == mine) for k, r in sessions]
        devices.sort(key=lambda d: (not d.current, -d.last_seen.timestamp()))
        return devices

    async def revoke_device(self, user_id: str, device: str) -> bool:
        """Revoke the session of ``user_id`` whose ``Device.id`` is ``device``; False if
        the user has no such live session."""
        now = self.clock()
        for key, record in await live_sessions(self.sessions, user_id, now):
            if device_id(key) == device:
                done = await revoke(self.sessions, key, record, now)
                if self.events and done:
                    event = Event(EventName.REVOKED, now, prefix(key), user_id)
                    await self.events.emit_async(event)
                return done
        return False

    async def _usable(self, key: SessionKey | None) -> tuple[SessionKey, Record, User]:
        """The record and user of a signed-in session, or the reason it is unusable."""
        if key is None:
            raise InvalidSession
        record = await self.sessions.load(key)
        if record is None:
            raise InvalidSession
        if self.lifecycle.is_revoked(record):
            raise SessionRevoked
        if not self.lifecycle.within_deadlines(record, self.clock()):
            raise SessionExpired
        if record.user_id is None:
            raise InvalidSession("This session is not signed in. Please log in.")
        user = await self.users.get(record.user_id)
        if user is None:
            raise InvalidSession
        return key, record, user

    async def _revoke(self, key: SessionKey | None, everywhere: bool) -> int:
        if key is None:
            return 0
        record = await self.sessions.load(key)
        if record is None:
            return 0
        now = self.clock()
        if everywhere and record.user_id is not None:
            return await revoke_user(self.sessions, record.user_id, now)
        if not self.lifecycle.is_live(record, now):
            return 0
        return int(await revoke(self.sessions, key, record, now))
