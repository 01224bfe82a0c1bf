# ruff: noqa: S101, S105, S106, S107, RUF001 - a test suite: asserts, fake hashes, odd names
"""Public test helpers for the auth layer: the user store conformance suite, and one
synchronous face over ``Auth`` and ``AsyncAuth`` so one suite tests both.

Run the suite against your own user store::

    from websession.auth.testing import SyncUserHarness, UserStoreConformance

    class TestMyUserStore(UserStoreConformance):
        @pytest.fixture
        def users(self):
            harness = SyncUserHarness(MyUserStore(...))
            yield harness
            harness.close()

A harness restates no contract: it forwards any method of the store or service it
drives and, on the async side, runs the coroutine on its own event loop (``finish``).
``AuthHarness`` also plays the part of the session middleware (``request`` opens the
session a cookie names, ``respond`` runs the engine's one store operation and returns
the cookie), with the engine and the saving code the middleware itself uses.
"""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import secrets
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from websession.auth._async.service import AsyncAuth
from websession.auth._sync.service import Auth
from websession.auth.users import AsyncUserStore, User, UserStore
from websession.core.cookies import SetCookie
from websession.core.engine import SessionEngine
from websession.core.session import Session
from websession.integrations.saving import save, save_async
from websession.types import Record, SessionKey

__all__ = [
    "AsyncAuthHarness",
    "AsyncUserHarness",
    "AuthHarness",
    "SyncAuthHarness",
    "SyncUserHarness",
    "UserHarness",
    "UserStoreConformance",
    "make_user",
]

T = TypeVar("T")


def make_user(username: str | None = None, *, password_hash: str = "$argon2id$test") -> User:
    """A user with a fresh id and (by default) a fresh name; the hash is not checked."""
    name = username if username is not None else "user-" + secrets.token_hex(4)
    return User(
        id=secrets.token_urlsafe(16),
        username=name,
        password_hash=password_hash,
        created_at=1_700_000_000.0,
        password_changed_at=1_700_000_000.0,
    )


# -- running sync and async code alike ---------------------------------------------


class _Driver:
    """Runs what a sync object returns as is, and what an async one returns (a
    coroutine) on a private event loop."""

    def __init__(self) -> None:
        self._runner: asyncio.Runner | None = None

    def finish(self, result: Any) -> Any:
        """The value of a call's result: awaited on the private loop if awaitable."""
        if not inspect.isawaitable(result):
            return result
        if self._runner is None:
            self._runner = asyncio.Runner()

        async def wrap() -> Any:
            return await result

        return self._runner.run(wrap())

    def _build(self, factory: Callable[[], T]) -> T:
        """``factory()`` called on the private loop (async stores bind to it)."""

        async def make() -> T:
            return factory()

        if self._runner is None:
            self._runner = asyncio.Runner()
        try:
            return self._runner.run(make())
        except BaseException:
            self.close_loop()
            raise

    def close_loop(self) -> None:
        """Close the private loop, if one was started."""
        if self._runner is not None:
            self._runner.close()
            self._runner = None


# -- user stores -----------------------------------------------------------------------


class UserHarness(_Driver):
    """A user store driven synchronously: every method of ``UserStore`` is reached as
    an attribute (``harness.get(user_id)``), plus ``concurrent_creates``."""

    store: Any

    def __getattr__(self, name: str) -> Callable[..., Any]:
        if name.startswith("_") or name == "store":
            raise AttributeError(name)
        method = getattr(self.store, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            return self.finish(method(*args, **kwargs))

        return call

    def concurrent_creates(self, users: Sequence[User]) -> list[bool]:
        """Create every user at the same time; return each result."""
        raise NotImplementedError

    def close(self) -> None:
        """Close the store (and the private loop)."""
        try:
            self.finish(self.store.close())
        finally:
            self.close_loop()


class SyncUserHarness(UserHarness):
    """Drives a sync ``UserStore``; concurrent calls run in threads."""

    def __init__(self, store: UserStore) -> None:
        super().__init__()
        self.store = store

    def concurrent_creates(self, users: Sequence[User]) -> list[bool]:
        """One thread per user, all started together."""
        with ThreadPoolExecutor(max_workers=min(16, len(users))) as pool:
            return list(pool.map(self.store.create, users))


class AsyncUserHarness(UserHarness):
    """Drives an ``AsyncUserStore`` made by ``factory`` on a private event loop."""

    def __init__(self, factory: Callable[[], AsyncUserStore]) -> None:
        super().__init__()
        self.store = self._build(factory)

    def concurrent_creates(self, users: Sequence[User]) -> list[bool]:
        """Every create awaited together with ``asyncio.gather``."""
        store: AsyncUserStore = self.store

        async def all_at_once() -> list[bool]:
            return list(await asyncio.gather(*(store.create(u) for u in users)))

        result: list[bool] = self.finish(all_at_once())
        return result


class UserStoreConformance:
    """Contract tests; subclass with a ``users`` fixture yielding a ``UserHarness``
    over a fresh, empty store."""

    def test_get_and_find_unknown_return_none(self, users: UserHarness) -> None:
        assert users.get("no-such-id") is None
        assert users.find("nobody-" + secrets.token_hex(4)) is None

    def test_create_then_get_and_find_round_trip(self, users: UserHarness) -> None:
        user = make_user("Alice")
        assert users.create(user) is True
        assert users.get(user.id) == user
        assert users.find("Alice") == user

    def test_find_ignores_case_and_unicode_form(self, users: UserHarness) -> None:
        user = make_user("Ｚoë")  # a fullwidth Z: NFKC makes it "Zoë"
        users.create(user)
        assert users.find("zoë") == user
        assert users.find("ZOË") == user
        assert users.find("Zoe\u0308") == user  # e + combining diaeresis

    def test_unicode_and_quotes_round_trip(self, users: UserHarness) -> None:
        user = make_user("o'brien\"; DROP TABLE--", password_hash="$argon2id$v=19$m=8$é✓")
        users.create(user)
        assert users.get(user.id) == user

    def test_create_refuses_a_taken_username_in_any_case(self, users: UserHarness) -> None:
        first = make_user("bob")
        assert users.create(first) is True
        assert users.create(make_user("BOB")) is False
        assert users.find("bob") == first

    def test_create_refuses_a_taken_id(self, users: UserHarness) -> None:
        first = make_user()
        users.create(first)
        clash = dataclasses.replace(make_user(), id=first.id)
        assert users.create(clash) is False
        assert users.get(first.id) == first
        assert users.find(clash.username) is None

    def test_set_password_replaces_a_matching_hash(self, users: UserHarness) -> None:
        user = make_user(password_hash="old")
        users.create(user)
        assert users.set_password(user.id, old_hash="old", new_hash="new", changed_at=5.0)
        stored = users.get(user.id)
        assert stored is not None
        assert stored.password_hash == "new"
        assert stored.password_changed_at == 5.0
        assert stored.created_at == user.created_at

    def test_set_password_refuses_a_stale_hash(self, users: UserHarness) -> None:
        user = make_user(password_hash="current")
        users.create(user)
        assert not users.set_password(user.id, old_hash="stale", new_hash="new", changed_at=5.0)
        assert users.get(user.id) == user

    def test_set_password_of_unknown_user_is_false(self, users: UserHarness) -> None:
        assert not users.set_password("no-such-id", old_hash="a", new_hash="b", changed_at=1.0)

    def test_delete_removes_the_user_and_frees_the_name(self, users: UserHarness) -> None:
        user = make_user("carol")
        users.create(user)
        assert users.delete(user.id) is True
        assert users.get(user.id) is None
        assert users.find("carol") is None
        assert users.create(make_user("Carol")) is True

    def test_delete_unknown_is_false(self, users: UserHarness) -> None:
        assert users.delete("no-such-id") is False

    def test_concurrent_creates_of_one_name_let_exactly_one_win(self, users: UserHarness) -> None:
        rivals = [make_user(("dave", "Dave", "DAVE", "dAvE")[i % 4]) for i in range(12)]
        results = users.concurrent_creates(rivals)
        assert sum(results) == 1
        winner = rivals[results.index(True)]
        assert users.find("DAVE") == winner


# -- the auth service ------------------------------------------------------------------


class AuthHarness(_Driver):
    """The service's methods, run synchronously, plus a stand-in for the middleware.

    ``call``, ``store`` and ``users`` forward a method call to the service, the
    session store or the user store; ``request(cookie)`` opens the session a cookie
    value names (a fresh one without); ``respond(session)`` carries out the engine's
    store operation and returns the ``Set-Cookie`` it asks for, if any.
    """

    auth: Auth | AsyncAuth
    engine: SessionEngine
    name = "auth"

    def _bind(self, auth: Auth | AsyncAuth) -> None:
        self.auth = auth
        self.engine = SessionEngine(auth.session_config, auth.clock)

    def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """Call a service method."""
        return self.finish(getattr(self.auth, method)(*args, **kwargs))

    def store(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """Call a session store method."""
        return self.finish(getattr(self.auth.sessions, method)(*args, **kwargs))

    def users(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """Call a user store method."""
        return self.finish(getattr(self.auth.users, method)(*args, **kwargs))

    def concurrently(
        self, method: str, calls: Sequence[tuple[Any, ...]], **kwargs: Any
    ) -> list[Any]:
        """Call a service method once per argument tuple (with ``kwargs`` each time),
        all at the same time; return each result or the exception it raised."""
        raise NotImplementedError

    def load(self, key: SessionKey) -> Record | None:
        """The stored record of ``key``."""
        record: Record | None = self.store("load", key)
        return record

    def request(self, cookie: str | None = None) -> Session:
        """The session the middleware would serve for a cookie value."""
        verified = None if cookie is None else self.engine.verify([f"{self.cookie_name}={cookie}"])
        record = None if verified is None else self.load(verified.key)
        return self.engine.open(verified, record)

    def respond(self, session: Session) -> SetCookie | None:
        """Finish a request: the engine's one store operation; the cookie to send."""
        outcome = self.engine.finish(session)
        if isinstance(self.auth, AsyncAuth):  # as the ASGI middleware does
            cookie: SetCookie | None = self.finish(save_async(self.auth.sessions, outcome))
            return cookie
        return save(self.auth.sessions, outcome)  # as the Flask integration does

    @property
    def cookie_name(self) -> str:
        """The session cookie's name."""
        return self.auth.session_config.cookie_name

    def close(self) -> None:
        """Close the service, its stores and the private loop."""
        try:
            self.call("close")
        finally:
            self.close_loop()


class SyncAuthHarness(AuthHarness):
    """Drives an ``Auth``; concurrent calls run in threads."""

    name = "sync"

    def __init__(self, auth: Auth) -> None:
        super().__init__()
        self._bind(auth)

    def concurrently(
        self, method: str, calls: Sequence[tuple[Any, ...]], **kwargs: Any
    ) -> list[Any]:
        """One thread per call."""

        def one(args: tuple[Any, ...]) -> Any:
            try:
                return self.call(method, *args, **kwargs)
            except Exception as exc:  # noqa: BLE001 - returned for the test to inspect
                return exc

        with ThreadPoolExecutor(max_workers=min(16, len(calls))) as pool:
            return list(pool.map(one, calls))


class AsyncAuthHarness(AuthHarness):
    """Drives an ``AsyncAuth`` made by ``factory`` on a private event loop."""

    name = "async"

    def __init__(self, factory: Callable[[], AsyncAuth]) -> None:
        super().__init__()
        self._bind(self._build(factory))

    def concurrently(
        self, method: str, calls: Sequence[tuple[Any, ...]], **kwargs: Any
    ) -> list[Any]:
        """Every call awaited together with ``asyncio.gather``."""
        target = getattr(self.auth, method)

        async def all_at_once() -> list[Any]:
            return list(
                await asyncio.gather(
                    *(target(*args, **kwargs) for args in calls), return_exceptions=True
                )
            )

        result: list[Any] = self.finish(all_at_once())
        return result
