"""Registration and login: users, credentials checked under the failed-login limits,
and the two ways to hold a login (the request's session, or an issued token)."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from websession.auth._async.base import AsyncAuthBase
from websession.auth.credentials import IssuedSession, bind
from websession.auth.devices import device_info
from websession.auth.errors import InvalidCredentials, InvalidInput, UserExists
from websession.auth.passwords import check_password
from websession.auth.users import User, check_username, new_user_id, username_key
from websession.core.session import DEVICE_KEY, Session
from websession.core.tokens import hash_token, new_token
from websession.events import Event, EventName, prefix
from websession.types import Record

__all__ = ["AsyncLogin"]

logger = logging.getLogger("websession.auth")

_MAX_USERNAME_INPUT = 1024


class AsyncLogin(AsyncAuthBase):
    """Users and login; part of the auth service."""

    async def register_user(self, username: str, password: str) -> User:
        """Create a user. Raises InvalidInput (``field`` says which) or UserExists."""
        name = check_username(username, self.config)
        secret = check_password(password, self.config, username=name)
        password_hash = await self.hashing.hash(secret)
        now = self.clock()
        user = User(new_user_id(), name, password_hash, now, now)
        if not await self.users.create(user):
            raise UserExists
        logger.info("websession auth: registered user %s", user.id)
        return user

    async def get_user(self, user_id: str) -> User | None:
        """The user with this id, or None."""
        return await self.users.get(user_id)

    async def user_of(self, session: Session) -> User | None:
        """The user a middleware session is signed in as, or None (anonymous, or the
        user no longer exists)."""
        if session.user_id is None:
            return None
        return await self.get_user(session.user_id)

    async def login(
        self,
        session: Session,
        username: str,
        password: str,
        *,
        ip: str | None = None,
        user_agent: str | None = None,
    ) -> User:
        """Check the password and sign ``session`` (the request's) in as the user.

        The session gets a new token and a new lifetime when the response starts (the
        old record is deleted), is bound to the user, and records the device: ``ip``,
        ``user_agent``, login time. A password hashed with older parameters is
        re-hashed. Raises InvalidCredentials, TooManyAttempts or InvalidInput; the
        work is the same whether or not the user exists.
        """
        user = await self._check_credentials(username, password, ip)
        bind(session, user, self._device(ip, user_agent, self.clock()))
        if self.events:
            await self.events.emit_async(Event(EventName.LOGIN, self.clock(), None, user.id, ip=ip))
        return user

    async def login_token(
        self,
        username: str,
        password: str,
        *,
        ip: str | None = None,
        user_agent: str | None = None,
    ) -> IssuedSession:
        """Check the password and store a new session for an API client; return its
        signed token. Raises as ``login`` does."""
        user = await self._check_credentials(username, password, ip)
        now = self.clock()
        deadlines = self.lifecycle.new(now)
        record = Record(
            data={DEVICE_KEY: self._device(ip, user_agent, now)},
            created_at=deadlines.created_at,
            last_seen=deadlines.last_seen,
            expires_at=deadlines.expires_at,
            absolute_expires_at=deadlines.absolute_expires_at,
            user_id=user.id,
        )
        while True:
            token = new_token()
            if await self.sessions.create(key := hash_token(token), record):
                if self.events:
                    event = Event(EventName.LOGIN, now, prefix(key), user.id, ip=ip)
                    await self.events.emit_async(event)
                return IssuedSession(user, self.credentials.sign(token), record.expires_at)

    def _device(self, ip: str | None, user_agent: str | None, now: float) -> dict[str, Any]:
        return device_info(ip, user_agent, now, max_user_agent=self.config.max_user_agent_length)

    async def _check_credentials(self, username: object, password: object, ip: str | None) -> User:
        """The user whose password this is, with the same work whether or not the user
        exists; counts failures and refuses locked accounts and addresses."""
        if not isinstance(username, str) or not isinstance(password, str):
            raise InvalidInput("Enter a username and a password.")
        if len(password) > self.config.max_password_length:
            raise InvalidInput(
                f"The password must be at most {self.config.max_password_length} characters.",
                field="password",
            )
        if len(username) > _MAX_USERNAME_INPUT:
            raise InvalidInput("The username is too long.", field="username")
        now = self.clock()
        account = username_key(username)
        limits = self.limiter.limits(account, ip)
        attempt = await self.limiter.reserve(limits, now)  # counted as failed until proven
        user = await self.users.find(username) if account else None
        if user is None:
            matched = await self.hashing.verify_dummy(password)
        else:
            matched = await self.hashing.verify(user.password_hash, password)
        if user is None or not matched:
            logger.info("websession auth: failed login")
            if self.events:
                user_id = user.id if user is not None else None
                await self.events.emit_async(
                    Event(EventName.LOGIN_FAILED, now, None, user_id, ip=ip)
                )
            raise InvalidCredentials
        await self.limiter.succeeded(attempt, now)
        if self.hasher.needs_rehash(user.password_hash):
            new_hash = await self.hashing.hash(password)
            if await self.users.set_password(
                user.id,
                old_hash=user.password_hash,
                new_hash=new_hash,
                changed_at=user.password_changed_at,
            ):
                user = replace(user, password_hash=new_hash)
        return user
