"""The auth service: users, login, authenticate, refresh, logout, devices, passwords.

``AsyncAuth`` (ASGI apps) and ``Auth`` (WSGI apps, scripts) have the same methods and
share one implementation (``websession.auth.plan``): only the I/O driver differs.
Both sit on a session store (the one the session middleware uses) and a user store::

    sessions = open_async_store("sqlite:///sessions.db")
    auth = AsyncAuth(sessions, "sqlite:///users.db", session_config=config)
    app.add_middleware(SessionMiddleware, store=sessions, config=config)

    user = await auth.login(get_session(request), name, password, ip=..., user_agent=...)

Two ways to hold a login:

* a **middleware session** (cookies): ``login(session, ...)`` regenerates the request's
  session and binds it to the user; the middleware writes it when the response starts;
* an **issued session** (API clients): ``login_token(...)`` stores a new session and
  returns its signed token, to be sent back as a cookie value or a bearer token.

Either way the session is a record of the session store, bound to the user through
the per-user index, with device metadata under ``DEVICE_KEY``.

Revocation keeps the record: ``logout`` patches it with ``REVOKED_KEY`` (the time of
revocation) and leaves its deadline alone, so until then a replay of its cookie is
told ``session_revoked`` rather than ``invalid_session``. The engine never serves a
revoked record. On stores that drop records at their deadline by themselves (Redis),
a session past its deadline is gone, and is reported as ``invalid_session``.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any

from websession.auth.config import AuthConfig
from websession.auth.devices import (
    AuthenticatedSession,
    Device,
    device_id,
    device_info,
    device_of,
)
from websession.auth.errors import (
    InvalidCredentials,
    InvalidInput,
    InvalidSession,
    SessionExpired,
    SessionRevoked,
    UserExists,
)
from websession.auth.passwords import PasswordHasher, check_password
from websession.auth.plan import Call, Plan, Target, run_async, run_sync
from websession.auth.ratelimit import RateLimiter
from websession.auth.users import (
    AsyncUserStore,
    User,
    UserStore,
    check_username,
    new_user_id,
    username_key,
)
from websession.auth.userstores import open_async_user_store, open_user_store
from websession.config import SessionConfig
from websession.core.jsondata import RESERVED_PREFIX
from websession.core.session import DEVICE_KEY, REVOKED_KEY, Session
from websession.core.signing import SIGNED_LENGTH, Signer
from websession.core.tokens import TOKEN_LENGTH, hash_token, new_token
from websession.stores import open_async_store, open_store
from websession.stores.base import AsyncStore, Store
from websession.types import Changes, Clock, Record, SessionKey

__all__ = ["AsyncAuth", "Auth", "IssuedSession"]

logger = logging.getLogger("websession.auth")

_MAX_USERNAME_INPUT = 1024
_TOKEN_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


@dataclass(frozen=True, slots=True)
class IssuedSession:
    """A session stored by ``login_token``: hand ``token`` to the client."""

    user: User
    token: str
    """The signed token: send it back as the session cookie's value or as a bearer
    token. Shown once; the store keeps only its hash."""
    expires_at: float
    """The idle deadline (Unix seconds); ``refresh_session`` moves it."""


class _Plans:
    """Every auth rule, as plans (see ``websession.auth.plan``); no I/O here."""

    def __init__(self, config: AuthConfig, session_config: SessionConfig, clock: Clock) -> None:
        self.config = config
        self.session_config = session_config
        self.clock = clock
        self.hasher = PasswordHasher(config)
        self.limiter = RateLimiter(config)
        self._signer = Signer(session_config.verifying_secrets)
        self._idle = session_config.idle_timeout.total_seconds()
        self._absolute = session_config.absolute_timeout.total_seconds()

    # -- credentials and keys --------------------------------------------------------

    def key_of(
        self, credential: str | Session | None, key: SessionKey | None = None
    ) -> SessionKey | None:
        """The store key a credential names, or None if it names none.

        A credential is a ``Session`` of this request, a signed cookie value, or a raw
        token; ``key`` (for tools) is a store key itself.
        """
        if key is not None:
            if credential is not None:
                raise TypeError("pass a credential or key=, not both")
            return key
        if isinstance(credential, Session):
            return None if credential.is_new else credential.key
        if not isinstance(credential, str):
            raise TypeError("a credential is a Session, a signed cookie value or a token")
        value = credential.strip()
        if len(value) == SIGNED_LENGTH:
            verified = self._signer.verify(value)
            return None if verified is None else verified.key
        if len(value) == TOKEN_LENGTH and _TOKEN_ALPHABET.issuperset(value):
            return hash_token(value)
        return None

    # -- users -----------------------------------------------------------------------

    def register(self, username: object, password: object) -> Plan[User]:
        """Validate, hash, and create the user; UserExists if the name is taken."""
        name = check_username(username, self.config)
        secret = check_password(password, self.config, username=name)
        password_hash: str = yield Call("hasher", "hash", (secret,))
        now = self.clock()
        user = User(new_user_id(), name, password_hash, now, now)
        created: bool = yield Call("users", "create", (user,))
        if not created:
            raise UserExists
        logger.info("websession auth: registered user %s", user.id)
        return user

    def get_user(self, user_id: str) -> Plan[User | None]:
        """The user with this id, or None."""
        user: User | None = yield Call("users", "get", (user_id,))
        return user

    def check_credentials(self, username: object, password: object, ip: str | None) -> Plan[User]:
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
        yield from self.limiter.check(limits, now)
        user: User | None = None
        if account:
            user = yield Call("users", "find", (username,))
        if user is None:
            matched: bool = yield Call("hasher", "verify_dummy", (password,))
        else:
            matched = yield Call("hasher", "verify", (user.password_hash, password))
        if user is None or not matched:
            yield from self.limiter.record_failure(limits, now)
            logger.info("websession auth: failed login")
            raise InvalidCredentials
        yield from self.limiter.clear(limits[0], now)
        if self.hasher.needs_rehash(user.password_hash):
            user = yield from self._rehash(user, password)
        return user

    def _rehash(self, user: User, password: str) -> Plan[User]:
        new_hash: str = yield Call("hasher", "hash", (password,))
        changed: bool = yield Call(
            "users",
            "set_password",
            (user.id,),
            {
                "old_hash": user.password_hash,
                "new_hash": new_hash,
                "changed_at": user.password_changed_at,
            },
        )
        return replace(user, password_hash=new_hash) if changed else user

    # -- sessions --------------------------------------------------------------------

    def bind(self, session: Session, user: User, ip: str | None, user_agent: str | None) -> None:
        """Make ``session`` a fresh login of ``user``: a new token and a new lifetime.

        Anonymous data (a cart) is kept when the session had no other user;
        websession's own keys (CSRF secret, old device data) never are.
        """
        previous = session.user_id
        data = session.data_view()
        kept = (
            {}
            if previous not in (None, user.id)
            else {k: v for k, v in data.items() if not k.startswith(RESERVED_PREFIX)}
        )
        session.destroy()  # the old record goes, a new one with a new token replaces it
        for name, value in kept.items():
            session[name] = value
        session.user_id = user.id
        session.set_internal(DEVICE_KEY, self._device(ip, user_agent, self.clock()))

    def _device(self, ip: str | None, user_agent: str | None, now: float) -> dict[str, Any]:
        return device_info(ip, user_agent, now, max_user_agent=self.config.max_user_agent_length)

    def issue(self, user: User, ip: str | None, user_agent: str | None) -> Plan[IssuedSession]:
        """Store a new session of ``user`` and return its signed token."""
        now = self.clock()
        absolute = now + self._absolute
        record = Record(
            data={DEVICE_KEY: self._device(ip, user_agent, now)},
            created_at=now,
            last_seen=now,
            expires_at=min(now + self._idle, absolute),
            absolute_expires_at=absolute,
            user_id=user.id,
        )
        while True:
            token = new_token()
            created: bool = yield Call("sessions", "create", (hash_token(token), record))
            if created:
                return IssuedSession(user, self._signer.sign(token), record.expires_at)

    def usable(self, key: SessionKey | None) -> Plan[tuple[SessionKey, Record, User]]:
        """The record and user of a signed-in session, or the reason it is unusable."""
        if key is None:
            raise InvalidSession
        record: Record | None = yield Call("sessions", "load", (key,))
        if record is None:
            raise InvalidSession
        if REVOKED_KEY in record.data:
            raise SessionRevoked
        now = self.clock()
        if now >= record.expires_at or now >= record.absolute_expires_at:
            raise SessionExpired
        if record.user_id is None:
            raise InvalidSession("This session is not signed in. Please log in.")
        user: User | None = yield Call("users", "get", (record.user_id,))
        if user is None:
            raise InvalidSession
        return key, record, user

    def authenticate(self, key: SessionKey | None) -> Plan[AuthenticatedSession]:
        """See ``AsyncAuth.authenticate_session``."""
        key, record, user = yield from self.usable(key)
        return AuthenticatedSession(user, key, device_of(key, record))

    def refresh(self, key: SessionKey | None) -> Plan[AuthenticatedSession]:
        """See ``AsyncAuth.refresh_session``."""
        key, record, user = yield from self.usable(key)
        now = self.clock()
        expires = max(record.expires_at, min(now + self._idle, record.absolute_expires_at))
        info = record.data.get(DEVICE_KEY)
        info = dict(info) if isinstance(info, dict) else {}
        info["last_seen"] = now
        changes = Changes(last_seen=now, expires_at=expires, set={DEVICE_KEY: info})
        updated: bool = yield Call("sessions", "update", (key, changes))
        if not updated:
            raise InvalidSession
        record.data[DEVICE_KEY] = info
        record.last_seen, record.expires_at = now, expires
        return AuthenticatedSession(user, key, device_of(key, record))

    def revoke(self, key: SessionKey | None, everywhere: bool) -> Plan[int]:
        """See ``AsyncAuth.logout``."""
        if key is None:
            return 0
        record: Record | None = yield Call("sessions", "load", (key,))
        if record is None:
            return 0
        if everywhere and record.user_id is not None:
            return (yield from self.revoke_user(record.user_id, None))
        if not self._live(record):
            return 0
        revoked: bool = yield self._revoke_call(key, record)
        return int(revoked)

    def _live(self, record: Record) -> bool:
        now = self.clock()
        return (
            REVOKED_KEY not in record.data
            and now < record.expires_at
            and now < record.absolute_expires_at
        )

    def _revoke_call(self, key: SessionKey, record: Record) -> Call:
        changes = Changes(
            last_seen=record.last_seen,
            expires_at=record.expires_at,  # kept until its own deadline, then gone
            set={REVOKED_KEY: self.clock()},
        )
        return Call("sessions", "update", (key, changes))

    def user_sessions(self, user_id: str) -> Plan[list[tuple[SessionKey, Record]]]:
        """The user's live, unrevoked sessions, through the per-user index."""
        found: list[tuple[SessionKey, Record]] = yield Call(
            "sessions", "list_user", (user_id, self.clock())
        )
        return [(k, r) for k, r in found if r.user_id == user_id and self._live(r)]

    def revoke_user(self, user_id: str, keep: SessionKey | None) -> Plan[int]:
        """See ``AsyncAuth.logout_user``."""
        sessions = yield from self.user_sessions(user_id)
        calls = [self._revoke_call(k, r) for k, r in sessions if k != keep]
        if not calls:
            return 0
        revoked: list[bool] = yield calls
        logger.info("websession auth: revoked %d sessions of user %s", sum(revoked), user_id)
        return sum(revoked)

    def devices(self, user_id: str, current: SessionKey | None) -> Plan[list[Device]]:
        """See ``AsyncAuth.list_sessions``."""
        sessions = yield from self.user_sessions(user_id)
        devices = [device_of(k, r, current=k == current) for k, r in sessions]
        devices.sort(key=lambda d: (not d.current, -d.last_seen.timestamp()))
        return devices

    def revoke_device(self, user_id: str, public_id: str) -> Plan[bool]:
        """See ``AsyncAuth.revoke_device``."""
        sessions = yield from self.user_sessions(user_id)
        for key, record in sessions:
            if device_id(key) == public_id:
                revoked: bool = yield self._revoke_call(key, record)
                return revoked
        return False

    def change_password(
        self,
        user_id: str,
        current_password: object,
        new_password: object,
        keep: SessionKey | None,
        ip: str | None,
    ) -> Plan[tuple[User, int]]:
        """See ``AsyncAuth.change_password``; returns the user and the count revoked."""
        user: User | None = yield Call("users", "get", (user_id,))
        if user is None:
            raise InvalidCredentials
        secret = check_password(
            new_password, self.config, field="new_password", username=user.username
        )
        user = yield from self.check_credentials(user.username, current_password, ip)
        if user.id != user_id:  # the name now belongs to someone else
            raise InvalidCredentials
        new_hash: str = yield Call("hasher", "hash", (secret,))
        now = self.clock()
        changed: bool = yield Call(
            "users",
            "set_password",
            (user_id,),
            {"old_hash": user.password_hash, "new_hash": new_hash, "changed_at": now},
        )
        if not changed:  # changed meanwhile by another request: prove the new one
            raise InvalidCredentials
        revoked = yield from self.revoke_user(user_id, keep)
        return replace(user, password_hash=new_hash, password_changed_at=now), revoked

    def reauthenticated(self, session: Session) -> None:
        """Rotate ``session``'s token and note that the password was just proven."""
        info = session.get_internal(DEVICE_KEY)
        info = dict(info) if isinstance(info, dict) else {}
        now = self.clock()
        info["auth_at"] = now
        info["last_seen"] = now
        session.set_internal(DEVICE_KEY, info)
        session.regenerate()


def detach(session: Session) -> None:
    """End ``session`` in this request without deleting its (revoked) record.

    ``destroy()`` with no key left to delete: the middleware expires the cookie, and
    data set afterwards (a flash message) goes into a brand-new session.
    """
    session.destroy()
    session.key = None
    session.token = None
    session.signed = None


def _session_key(keep: Session | SessionKey | None) -> SessionKey | None:
    if isinstance(keep, Session):
        return None if keep.is_new else keep.key
    return keep


@dataclass(frozen=True, slots=True)
class _Opened:
    """A store the service opened from a URL, and so closes."""

    store: Any


class _Service:
    """What ``AsyncAuth`` and ``Auth`` share: configuration, rules and stores."""

    def __init__(
        self,
        sessions: Any,
        users: Any,
        session_config: SessionConfig,
        config: AuthConfig | None,
        clock: Clock,
    ) -> None:
        self.config = config if config is not None else AuthConfig.production()
        """The auth settings (``AuthConfig.production()`` unless given)."""
        self.session_config = session_config
        """The session middleware's settings: tokens and deadlines agree with it."""
        self.clock = clock
        """The service's clock (Unix seconds)."""
        self._plans = _Plans(self.config, session_config, clock)
        self._owned = [s.store for s in (sessions, users) if isinstance(s, _Opened)]
        self.sessions = sessions.store if isinstance(sessions, _Opened) else sessions
        self.users = users.store if isinstance(users, _Opened) else users
        self._targets: dict[Target, Any] = {
            "sessions": self.sessions,
            "users": self.users,
            "hasher": self._plans.hasher,
        }

    @property
    def hasher(self) -> PasswordHasher:
        """The password hasher (argon2id with ``config``'s parameters)."""
        return self._plans.hasher

    @property
    def limiter(self) -> RateLimiter:
        """The failed-login limiter (its state is in the session store)."""
        return self._plans.limiter


class AsyncAuth(_Service):
    """The auth service for async code (ASGI apps).

    ``sessions`` is the session store (an ``AsyncStore`` or a URL), normally the one
    the session middleware uses; ``users`` is the user store (an ``AsyncUserStore`` or a
    URL, see ``websession.auth.userstores``). ``session_config`` must be the
    middleware's, so tokens and deadlines agree. ``config`` defaults to
    ``AuthConfig.production()``. Stores given as URLs are closed by ``close()``.
    """

    sessions: AsyncStore
    """The session store (revocations and failed-login counts live here too)."""
    users: AsyncUserStore
    """The user store."""

    def __init__(
        self,
        sessions: AsyncStore | str,
        users: AsyncUserStore | str,
        *,
        session_config: SessionConfig,
        config: AuthConfig | None = None,
        clock: Clock = time.time,
    ) -> None:
        super().__init__(
            sessions if not isinstance(sessions, str) else _Opened(open_async_store(sessions)),
            users if not isinstance(users, str) else _Opened(open_async_user_store(users)),
            session_config,
            config,
            clock,
        )
        self._executor: ThreadPoolExecutor | None = None

    async def _run(self, plan: Plan[Any]) -> Any:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(
                max_workers=self.config.hash_workers, thread_name_prefix="websession-hash"
            )
        return await run_async(plan, self._targets, self._executor)

    async def register_user(self, username: str, password: str) -> User:
        """Create a user. Raises InvalidInput (``field`` says which) or UserExists."""
        user: User = await self._run(self._plans.register(username, password))
        return user

    async def get_user(self, user_id: str) -> User | None:
        """The user with this id, or None."""
        user: User | None = await self._run(self._plans.get_user(user_id))
        return user

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
        user: User = await self._run(self._plans.check_credentials(username, password, ip))
        self._plans.bind(session, user, ip, user_agent)
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
        user: User = await self._run(self._plans.check_credentials(username, password, ip))
        issued: IssuedSession = await self._run(self._plans.issue(user, ip, user_agent))
        return issued

    async def authenticate_session(
        self, credential: str | Session | None = None, *, key: SessionKey | None = None
    ) -> AuthenticatedSession:
        """Return the user and device of a signed-in session, straight from the store.

        ``credential`` is a signed cookie value or token from the client, or a
        ``Session``; ``key=`` (for tools, never from a client) a store key. Raises
        SessionRevoked, SessionExpired, or InvalidSession (malformed, forged, unknown,
        not signed in, or the user is gone).
        """
        found: AuthenticatedSession = await self._run(
            self._plans.authenticate(self._plans.key_of(credential, key))
        )
        return found

    async def refresh_session(
        self, credential: str | Session | None = None, *, key: SessionKey | None = None
    ) -> AuthenticatedSession:
        """Extend a usable session's idle deadline (never past its absolute one) and
        note it was seen now. Raises as ``authenticate_session`` does."""
        found: AuthenticatedSession = await self._run(
            self._plans.refresh(self._plans.key_of(credential, key))
        )
        return found

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
        revoked: int = await self._run(
            self._plans.revoke(self._plans.key_of(credential, key), everywhere)
        )
        if isinstance(credential, Session):
            detach(credential)
        return revoked

    async def logout_user(self, user_id: str, *, keep: Session | SessionKey | None = None) -> int:
        """Revoke every session of ``user_id`` but ``keep`` (e.g. the current one);
        return how many. Time is proportional to that user's sessions."""
        revoked: int = await self._run(self._plans.revoke_user(user_id, _session_key(keep)))
        return revoked

    async def list_sessions(
        self, user_id: str, *, current: Session | SessionKey | None = None
    ) -> list[Device]:
        """The user's signed-in devices (revoked and expired sessions left out): the
        current one first, then the most recently seen."""
        devices: list[Device] = await self._run(self._plans.devices(user_id, _session_key(current)))
        return devices

    async def revoke_device(self, user_id: str, device: str) -> bool:
        """Revoke the session of ``user_id`` whose ``Device.id`` is ``device``; False if
        the user has no such live session."""
        revoked: bool = await self._run(self._plans.revoke_device(user_id, device))
        return revoked

    async def change_password(
        self,
        user_id: str,
        current_password: str,
        new_password: str,
        *,
        session: Session | None = None,
        ip: str | None = None,
    ) -> int:
        """Change a password after checking the current one, and revoke every other
        session of the user; return how many.

        ``session`` (the request's) stays signed in with a new token, and counts as a
        fresh authentication. Raises InvalidInput (``field="new_password"``),
        InvalidCredentials or TooManyAttempts (failures count as failed logins).
        """
        keep = _session_key(session)
        _, revoked = await self._run(
            self._plans.change_password(user_id, current_password, new_password, keep, ip)
        )
        if session is not None and not session.is_new:
            self._plans.reauthenticated(session)
        return int(revoked)

    async def close(self) -> None:
        """Close the stores opened from URLs and the hashing threads."""
        for store in self._owned:
            await store.close()
        self._owned.clear()
        if self._executor is not None:
            self._executor.shutdown(wait=False)
            self._executor = None


class Auth(_Service):
    """The auth service for sync code (WSGI apps, scripts): ``AsyncAuth``'s twin.

    Same arguments with a ``Store`` and a ``UserStore`` (or URLs), same methods, same
    rules; see ``AsyncAuth`` for each method's contract.
    """

    sessions: Store
    """The session store (revocations and failed-login counts live here too)."""
    users: UserStore
    """The user store."""

    def __init__(
        self,
        sessions: Store | str,
        users: UserStore | str,
        *,
        session_config: SessionConfig,
        config: AuthConfig | None = None,
        clock: Clock = time.time,
    ) -> None:
        super().__init__(
            sessions if not isinstance(sessions, str) else _Opened(open_store(sessions)),
            users if not isinstance(users, str) else _Opened(open_user_store(users)),
            session_config,
            config,
            clock,
        )

    def _run(self, plan: Plan[Any]) -> Any:
        return run_sync(plan, self._targets)

    def register_user(self, username: str, password: str) -> User:
        """See ``AsyncAuth.register_user``."""
        user: User = self._run(self._plans.register(username, password))
        return user

    def get_user(self, user_id: str) -> User | None:
        """See ``AsyncAuth.get_user``."""
        user: User | None = self._run(self._plans.get_user(user_id))
        return user

    def user_of(self, session: Session) -> User | None:
        """See ``AsyncAuth.user_of``."""
        if session.user_id is None:
            return None
        return self.get_user(session.user_id)

    def login(
        self,
        session: Session,
        username: str,
        password: str,
        *,
        ip: str | None = None,
        user_agent: str | None = None,
    ) -> User:
        """See ``AsyncAuth.login``."""
        user: User = self._run(self._plans.check_credentials(username, password, ip))
        self._plans.bind(session, user, ip, user_agent)
        return user

    def login_token(
        self,
        username: str,
        password: str,
        *,
        ip: str | None = None,
        user_agent: str | None = None,
    ) -> IssuedSession:
        """See ``AsyncAuth.login_token``."""
        user: User = self._run(self._plans.check_credentials(username, password, ip))
        issued: IssuedSession = self._run(self._plans.issue(user, ip, user_agent))
        return issued

    def authenticate_session(
        self, credential: str | Session | None = None, *, key: SessionKey | None = None
    ) -> AuthenticatedSession:
        """See ``AsyncAuth.authenticate_session``."""
        found: AuthenticatedSession = self._run(
            self._plans.authenticate(self._plans.key_of(credential, key))
        )
        return found

    def refresh_session(
        self, credential: str | Session | None = None, *, key: SessionKey | None = None
    ) -> AuthenticatedSession:
        """See ``AsyncAuth.refresh_session``."""
        found: AuthenticatedSession = self._run(
            self._plans.refresh(self._plans.key_of(credential, key))
        )
        return found

    def logout(
        self,
        credential: str | Session | None = None,
        *,
        key: SessionKey | None = None,
        everywhere: bool = False,
    ) -> int:
        """See ``AsyncAuth.logout``."""
        revoked: int = self._run(
            self._plans.revoke(self._plans.key_of(credential, key), everywhere)
        )
        if isinstance(credential, Session):
            detach(credential)
        return revoked

    def logout_user(self, user_id: str, *, keep: Session | SessionKey | None = None) -> int:
        """See ``AsyncAuth.logout_user``."""
        revoked: int = self._run(self._plans.revoke_user(user_id, _session_key(keep)))
        return revoked

    def list_sessions(
        self, user_id: str, *, current: Session | SessionKey | None = None
    ) -> list[Device]:
        """See ``AsyncAuth.list_sessions``."""
        devices: list[Device] = self._run(self._plans.devices(user_id, _session_key(current)))
        return devices

    def revoke_device(self, user_id: str, device: str) -> bool:
        """See ``AsyncAuth.revoke_device``."""
        revoked: bool = self._run(self._plans.revoke_device(user_id, device))
        return revoked

    def change_password(
        self,
        user_id: str,
        current_password: str,
        new_password: str,
        *,
        session: Session | None = None,
        ip: str | None = None,
    ) -> int:
        """See ``AsyncAuth.change_password``."""
        keep = _session_key(session)
        _, revoked = self._run(
            self._plans.change_password(user_id, current_password, new_password, keep, ip)
        )
        if session is not None and not session.is_new:
            self._plans.reauthenticated(session)
        return int(revoked)

    def close(self) -> None:
        """Close the stores opened from URLs."""
        for store in self._owned:
            store.close()
        self._owned.clear()
