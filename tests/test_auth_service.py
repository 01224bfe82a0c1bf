"""The auth service, sync and async, on every session store and every user store.

Each test runs on each pair of (session store, user store) and each mode: the
service's rules are shared, but revocation, the per-user index and the failed-login
counts live in the session store, and users in the user store.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.test_auth_userstores import (
    SESSION_STORES,
    USER_STORES,
    drop_user_table,
    session_store_url,
    user_store_url,
)
from websession import SessionConfig
from websession.auth import (
    AsyncAuth,
    Auth,
    AuthConfig,
    AuthenticatedSession,
    InvalidCredentials,
    InvalidInput,
    InvalidSession,
    IssuedSession,
    SessionExpired,
    SessionRevoked,
    TooManyAttempts,
    User,
    UserExists,
)
from websession.auth.passwords import PasswordHasher
from websession.auth.ratelimit import Limit
from websession.auth.testing import AsyncAuthHarness, AuthHarness, SyncAuthHarness
from websession.core.session import CSRF_KEY, DEVICE_KEY, REVOKED_KEY, Session
from websession.core.tokens import hash_token
from websession.testing import FakeClock
from websession.types import Record, SessionKey

PASSWORD = "correct horse battery"
SESSION_CONFIG = SessionConfig(
    secret="a" * 32,
    secure=False,
    idle_timeout=timedelta(minutes=30),
    absolute_timeout=timedelta(hours=2),
)
AUTH_CONFIG = AuthConfig.development(
    max_failures_per_account=3, max_failures_per_address=5, failure_window=timedelta(minutes=1)
)


@pytest.fixture(params=SESSION_STORES)
def session_kind(request: pytest.FixtureRequest) -> str:
    value: str = request.param
    return value


@pytest.fixture(params=USER_STORES)
def user_kind(request: pytest.FixtureRequest) -> str:
    value: str = request.param
    return value


@pytest.fixture(params=["sync", "async"])
def mode(request: pytest.FixtureRequest) -> str:
    value: str = request.param
    return value


@pytest.fixture
def clock() -> FakeClock:
    """The start of the next failure window, in whole seconds (datetimes round-trip
    exactly). Redis expires records on the real clock: a window that starts ahead of
    real time cannot end, in real time, while the test counts failures in it."""
    window = AUTH_CONFIG.failure_window.total_seconds()
    return FakeClock(float(math.ceil(time.time() / window) * window))


def make_harness(
    mode: str, sessions: str, users: str, clock: FakeClock, config: AuthConfig = AUTH_CONFIG
) -> AuthHarness:
    options: dict[str, Any] = {"session_config": SESSION_CONFIG, "config": config, "clock": clock}
    if mode == "sync":
        return SyncAuthHarness(Auth(sessions, users, **options))
    return AsyncAuthHarness(lambda: AsyncAuth(sessions, users, **options))


@pytest.fixture
def h(
    session_kind: str, user_kind: str, mode: str, clock: FakeClock, tmp_path: Path
) -> Iterator[AuthHarness]:
    sessions = session_store_url(session_kind, tmp_path)
    users = user_store_url(user_kind, tmp_path)
    harness = make_harness(mode, sessions, users, clock)
    yield harness
    harness.close()
    drop_user_table(users)


def register(h: AuthHarness, name: str = "alice", password: str = PASSWORD) -> User:
    user: User = h.call("register_user", name, password)
    return user


def sign_in(
    h: AuthHarness, name: str = "alice", *, ip: str | None = "203.0.113.9", agent: str = "UA/1"
) -> str:
    """Log in through a request cycle; return the new session cookie's value."""
    session = h.request()
    h.call("login", session, name, PASSWORD, ip=ip, user_agent=agent)
    cookie = h.respond(session)
    assert cookie is not None
    return cookie.value


def key_of(cookie: str) -> SessionKey:
    return hash_token(cookie.split(".")[0])


def respond(h: AuthHarness, session: Session) -> str:
    """Finish a request that must set a session cookie; return its value."""
    cookie = h.respond(session)
    assert cookie is not None
    return cookie.value


def login_over(h: AuthHarness, cookie: str, name: str) -> Record:
    """Log in from the session ``cookie`` names; return the new session's record."""
    session = h.request(cookie)
    h.call("login", session, name, PASSWORD)
    record = h.load(key_of(respond(h, session)))
    assert record is not None
    return record


def authenticate(h: AuthHarness, credential: str | Session) -> AuthenticatedSession:
    found: AuthenticatedSession = h.call("authenticate_session", credential)
    return found


# -- register ------------------------------------------------------------------------


def test_register_returns_a_user_with_an_argon2id_hash(h: AuthHarness) -> None:
    user = register(h, "Alice")
    assert user.username == "Alice"
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in repr(user)
    assert h.users("get", user.id) == user


def test_register_normalizes_the_username(h: AuthHarness) -> None:
    user = register(h, "  \uff42\uff4f\uff42 ")  # fullwidth letters, surrounding spaces
    assert user.username == "bob"


def test_register_rejects_a_taken_username_in_any_case(h: AuthHarness) -> None:
    register(h, "alice")
    with pytest.raises(UserExists) as caught:
        register(h, "ALICE", "another long password")
    assert caught.value.code == "user_exists"
    assert caught.value.status == 409


@pytest.mark.parametrize("name", ["", "   ", "two words", "x" * 65, "tab\there", "nul\x00"])
def test_register_rejects_bad_usernames(h: AuthHarness, name: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        register(h, name)
    assert caught.value.field == "username"
    assert caught.value.code == "invalid_input"


@pytest.mark.parametrize(
    ("password", "rule"),
    [("short", "at least 8"), ("x" * 1025, "at most 1024"), (" " * 12, "spaces"), ("alice123", "")],
)
def test_register_rejects_bad_passwords(h: AuthHarness, password: str, rule: str) -> None:
    name = "alice123" if not rule else "alice"
    with pytest.raises(InvalidInput, match=rule or "username") as caught:
        register(h, name, password)
    assert caught.value.field == "password"
    assert h.users("find", name) is None


def test_register_rejects_non_text_input(h: AuthHarness) -> None:
    with pytest.raises(InvalidInput):
        h.call("register_user", None, PASSWORD)
    with pytest.raises(InvalidInput):
        h.call("register_user", "alice", b"bytes password")


# -- login ---------------------------------------------------------------------------


def test_login_binds_the_session_to_the_user_with_a_new_token(
    h: AuthHarness, clock: FakeClock
) -> None:
    user = register(h)
    anonymous = h.request()
    anonymous["cart"] = [1, 2]
    first = h.respond(anonymous)
    assert first is not None
    session = h.request(first.value)
    assert h.call("login", session, "alice", PASSWORD, ip="203.0.113.9", user_agent="UA/1") == user
    cookie = h.respond(session)
    assert cookie is not None
    assert cookie.value != first.value
    assert h.load(key_of(first.value)) is None  # the old session is gone
    signed_in = h.request(cookie.value)
    assert signed_in.user_id == user.id
    assert signed_in["cart"] == [1, 2]
    device = signed_in.get_internal(DEVICE_KEY)
    assert device == {
        "ip": "203.0.113.9",
        "user_agent": "UA/1",
        "created": clock.now,
        "last_seen": clock.now,
        "auth_at": clock.now,
    }


def test_login_drops_websessions_own_keys_of_the_old_session(h: AuthHarness) -> None:
    register(h)
    session = h.request()
    session.set_internal(CSRF_KEY, "old-csrf-secret")
    session["theme"] = "dark"
    record = login_over(h, respond(h, session), "alice")
    assert CSRF_KEY not in record.data
    assert record.data["theme"] == "dark"


def test_login_as_another_user_drops_the_previous_users_data(h: AuthHarness) -> None:
    register(h, "alice")
    register(h, "bob")
    session = h.request(sign_in(h, "alice"))
    session["alice-only"] = True
    record = login_over(h, respond(h, session), "bob")
    assert "alice-only" not in record.data


def test_login_starts_a_new_absolute_lifetime(h: AuthHarness, clock: FakeClock) -> None:
    register(h)
    session = h.request()
    session["visits"] = 1
    cookie = respond(h, session)
    clock.advance(timedelta(minutes=20))
    record = login_over(h, cookie, "alice")
    assert record.created_at == clock.now
    assert record.absolute_expires_at == clock.now + 2 * 3600


def test_login_accepts_the_username_in_any_case(h: AuthHarness) -> None:
    user = register(h, "Alice")
    session = h.request()
    assert h.call("login", session, "aLiCe", PASSWORD) == user


def test_login_with_a_wrong_password_is_invalid_credentials(h: AuthHarness) -> None:
    register(h)
    session = h.request()
    with pytest.raises(InvalidCredentials) as caught:
        h.call("login", session, "alice", "wrong password")
    assert caught.value.code == "invalid_credentials"
    assert caught.value.status == 401
    assert session.user_id is None
    assert h.respond(session) is None  # nothing stored for a failed login


def test_login_of_an_unknown_user_is_the_same_error(h: AuthHarness) -> None:
    register(h)
    with pytest.raises(InvalidCredentials) as unknown:
        h.call("login", h.request(), "mallory", PASSWORD)
    with pytest.raises(InvalidCredentials) as wrong:
        h.call("login", h.request(), "alice", "wrong password")
    assert unknown.value.to_json() == wrong.value.to_json()


def count_hashing(h: AuthHarness, monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Count the hasher's calls (the real ones still run)."""
    counts: dict[str, int] = {}
    hasher = h.auth.hasher
    for name in ("hash", "verify", "verify_dummy"):
        real: Callable[..., Any] = getattr(hasher, name)

        def counted(*args: Any, _real: Callable[..., Any] = real, _name: str = name) -> Any:
            counts[_name] = counts.get(_name, 0) + 1
            return _real(*args)

        monkeypatch.setattr(hasher, name, counted)
    return counts


def test_login_does_the_same_work_whether_or_not_the_user_exists(
    h: AuthHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    register(h)
    counts = count_hashing(h, monkeypatch)
    with pytest.raises(InvalidCredentials):
        h.call("login_token", "mallory", PASSWORD)
    assert counts == {"verify_dummy": 1}
    counts.clear()
    with pytest.raises(InvalidCredentials):
        h.call("login_token", "alice", "wrong password")
    assert counts == {"verify": 1}
    dummy = h.auth.hasher._dummy_hash()
    assert not h.auth.hasher.needs_rehash(dummy)  # same parameters as real hashes


def test_login_rehashes_a_password_hashed_with_other_parameters(h: AuthHarness) -> None:
    old_hasher = PasswordHasher(AuthConfig.development(time_cost=2))
    user = User("u-rehash", "rehash", old_hasher.hash(PASSWORD), 1.0, 1.0)
    assert h.users("create", user)
    assert h.auth.hasher.needs_rehash(user.password_hash)
    h.call("login", h.request(), "rehash", PASSWORD)
    stored = h.users("get", user.id)
    assert stored.password_hash != user.password_hash
    assert not h.auth.hasher.needs_rehash(stored.password_hash)
    assert stored.password_changed_at == 1.0  # a rehash is not a password change
    h.call("login", h.request(), "rehash", PASSWORD)


def test_login_rejects_input_that_is_not_text_or_too_long(h: AuthHarness) -> None:
    with pytest.raises(InvalidInput):
        h.call("login", h.request(), None, PASSWORD)
    with pytest.raises(InvalidInput) as caught:
        h.call("login", h.request(), "alice", "x" * 1025)
    assert caught.value.field == "password"
    with pytest.raises(InvalidInput) as caught:
        h.call("login", h.request(), "x" * 2000, PASSWORD)
    assert caught.value.field == "username"


def test_login_token_issues_a_signed_token_that_authenticates(
    h: AuthHarness, clock: FakeClock
) -> None:
    user = register(h)
    issued: IssuedSession = h.call("login_token", "alice", PASSWORD, ip="::1", user_agent="cli")
    assert issued.user == user
    assert issued.expires_at == clock.now + 30 * 60
    found = authenticate(h, issued.token)
    assert found.user == user
    assert found.device.ip == "::1"
    assert found.device.user_agent == "cli"
    assert h.load(key_of(issued.token)) is not None  # stored under the hash only
    session = h.request(issued.token)  # the token works as the cookie value
    assert session.user_id == user.id


def test_long_user_agents_are_cut(h: AuthHarness) -> None:
    register(h)
    issued = h.call("login_token", "alice", PASSWORD, user_agent="A" * 1000)
    assert authenticate(h, issued.token).device.user_agent == "A" * 256


# -- authenticate --------------------------------------------------------------------


def test_authenticate_accepts_a_cookie_value_a_token_a_key_or_a_session(h: AuthHarness) -> None:
    user = register(h)
    cookie = sign_in(h)
    token = cookie.split(".")[0]
    for found in (
        authenticate(h, cookie),
        authenticate(h, token),
        authenticate(h, h.request(cookie)),
        h.call("authenticate_session", key=key_of(cookie)),
    ):
        assert found.user == user
        assert found.key == key_of(cookie)
        assert found.device.ip == "203.0.113.9"
        assert found.device.id != found.key


def test_authenticate_refuses_a_key_passed_as_a_credential(h: AuthHarness) -> None:
    register(h)
    cookie = sign_in(h)
    with pytest.raises(InvalidSession):  # store keys never come from clients
        authenticate(h, key_of(cookie))
    with pytest.raises(TypeError):
        h.call("authenticate_session", cookie, key=key_of(cookie))


@pytest.mark.parametrize(
    "credential",
    ["", "garbage", "A" * 43 + "." + "B" * 43, "../../etc/passwd", "' OR 1=1 --", "A" * 43],
)
def test_authenticate_malformed_forged_or_unknown_is_invalid_session(
    h: AuthHarness, credential: str
) -> None:
    with pytest.raises(InvalidSession) as caught:
        authenticate(h, credential)
    assert type(caught.value) is InvalidSession
    assert caught.value.code == "invalid_session"


def test_authenticate_a_tampered_signature_is_invalid_session(h: AuthHarness) -> None:
    register(h)
    cookie = sign_in(h)
    forged = cookie[:-2] + ("AA" if cookie[-2:] != "AA" else "BB")
    with pytest.raises(InvalidSession) as caught:
        authenticate(h, forged)
    assert caught.value.code == "invalid_session"


def test_authenticate_a_deleted_session_is_invalid_session(h: AuthHarness) -> None:
    register(h)
    cookie = sign_in(h)
    h.store("delete", key_of(cookie))
    with pytest.raises(InvalidSession) as caught:
        authenticate(h, cookie)
    assert caught.value.code == "invalid_session"


def test_authenticate_past_the_idle_deadline_is_session_expired(
    h: AuthHarness, clock: FakeClock
) -> None:
    register(h)
    cookie = sign_in(h)
    clock.advance(timedelta(minutes=31))
    with pytest.raises(SessionExpired) as caught:
        authenticate(h, cookie)
    assert caught.value.code == "session_expired"
    assert caught.value.status == 401


def test_authenticate_past_the_absolute_deadline_is_session_expired(
    h: AuthHarness, clock: FakeClock
) -> None:
    register(h)
    cookie = sign_in(h)
    for _ in range(4):
        clock.advance(timedelta(minutes=25))
        h.call("refresh_session", cookie)
    clock.advance(timedelta(minutes=25))  # 125 minutes: past the 2 hour cap
    with pytest.raises(SessionExpired):
        authenticate(h, cookie)


def test_authenticate_a_revoked_session_is_session_revoked(h: AuthHarness) -> None:
    register(h)
    cookie = sign_in(h)
    assert h.call("logout", cookie) == 1
    with pytest.raises(SessionRevoked) as caught:
        authenticate(h, cookie)
    assert caught.value.code == "session_revoked"
    assert isinstance(caught.value, InvalidSession)


def test_authenticate_an_anonymous_session_is_invalid_session(h: AuthHarness) -> None:
    session = h.request()
    session["visits"] = 1
    cookie = h.respond(session)
    assert cookie is not None
    with pytest.raises(InvalidSession, match="not signed in"):
        authenticate(h, cookie.value)


def test_authenticate_after_the_user_is_deleted_is_invalid_session(h: AuthHarness) -> None:
    user = register(h)
    cookie = sign_in(h)
    assert h.users("delete", user.id)
    with pytest.raises(InvalidSession):
        authenticate(h, cookie)
    assert h.call("user_of", h.request(cookie)) is None


def test_user_of_gives_the_signed_in_user_or_none(h: AuthHarness) -> None:
    user = register(h)
    assert h.call("user_of", h.request(sign_in(h))) == user
    assert h.call("user_of", h.request()) is None
    assert h.call("get_user", user.id) == user
    assert h.call("get_user", "nobody") is None


# -- refresh -------------------------------------------------------------------------


def test_refresh_extends_the_idle_deadline_and_last_seen(h: AuthHarness, clock: FakeClock) -> None:
    register(h)
    cookie = sign_in(h)
    clock.advance(timedelta(minutes=20))
    found: AuthenticatedSession = h.call("refresh_session", cookie)
    assert found.device.last_seen.timestamp() == clock.now
    assert found.device.expires_at.timestamp() == clock.now + 30 * 60
    record = h.load(key_of(cookie))
    assert record is not None
    assert record.expires_at == clock.now + 30 * 60
    assert record.last_seen == clock.now
    assert record.data[DEVICE_KEY]["last_seen"] == clock.now
    clock.advance(timedelta(minutes=20))  # 40 minutes after login: alive thanks to refresh
    assert authenticate(h, cookie).user.username == "alice"


def test_refresh_never_passes_the_absolute_deadline(h: AuthHarness, clock: FakeClock) -> None:
    register(h)
    cookie = sign_in(h)
    start = clock.now
    for _ in range(4):
        clock.advance(timedelta(minutes=25))
        found: AuthenticatedSession = h.call("refresh_session", cookie)
    assert found.device.expires_at.timestamp() == start + 2 * 3600
    assert found.device.absolute_expires_at.timestamp() == start + 2 * 3600


@pytest.mark.parametrize("how", ["revoked", "expired", "unknown", "anonymous"])
def test_refresh_refuses_an_unusable_session(h: AuthHarness, clock: FakeClock, how: str) -> None:
    register(h)
    cookie = sign_in(h)
    expected: type[InvalidSession] = InvalidSession
    if how == "revoked":
        h.call("logout", cookie)
        expected = SessionRevoked
    elif how == "expired":
        clock.advance(timedelta(minutes=31))
        expected = SessionExpired
    elif how == "unknown":
        h.store("delete", key_of(cookie))
    else:
        session = h.request()
        session["a"] = 1
        anonymous = h.respond(session)
        assert anonymous is not None
        cookie = anonymous.value
    before = h.load(key_of(cookie))
    with pytest.raises(expected):
        h.call("refresh_session", cookie)
    assert h.load(key_of(cookie)) == before


# -- logout --------------------------------------------------------------------------


def test_logout_marks_the_record_revoked_and_keeps_it_until_its_deadline(
    h: AuthHarness, clock: FakeClock
) -> None:
    register(h)
    cookie = sign_in(h)
    before = h.load(key_of(cookie))
    assert before is not None
    clock.advance(60)
    assert h.call("logout", cookie) == 1
    after = h.load(key_of(cookie))
    assert after is not None
    assert after.data[REVOKED_KEY] == clock.now
    assert after.expires_at == before.expires_at
    assert after.user_id == before.user_id


def test_logout_of_the_request_session_drops_the_cookie_but_keeps_the_record(
    h: AuthHarness,
) -> None:
    register(h)
    cookie = sign_in(h)
    session = h.request(cookie)
    assert h.call("logout", session) == 1
    response_cookie = h.respond(session)
    assert response_cookie is not None
    assert response_cookie.deletes
    record = h.load(key_of(cookie))
    assert record is not None
    assert REVOKED_KEY in record.data


def test_data_set_after_logout_goes_into_a_new_anonymous_session(h: AuthHarness) -> None:
    register(h)
    cookie = sign_in(h)
    session = h.request(cookie)
    h.call("logout", session)
    session.flash("You have been logged out.")
    new = h.respond(session)
    assert new is not None
    assert not new.deletes
    assert new.value != cookie
    fresh = h.request(new.value)
    assert fresh.user_id is None
    assert fresh.pop_flashes() == [("message", "You have been logged out.")]
    record = h.load(key_of(cookie))
    assert record is not None
    assert REVOKED_KEY in record.data  # the old one is still there, revoked


def test_a_replayed_cookie_after_logout_is_served_a_fresh_session(h: AuthHarness) -> None:
    register(h)
    cookie = sign_in(h)
    h.call("logout", cookie)
    replay = h.request(cookie)
    assert replay.is_new
    assert replay.user_id is None


def test_logout_twice_revokes_nothing_the_second_time(h: AuthHarness) -> None:
    register(h)
    cookie = sign_in(h)
    assert h.call("logout", cookie) == 1
    first = h.load(key_of(cookie))
    assert h.call("logout", cookie) == 0
    assert h.load(key_of(cookie)) == first


@pytest.mark.parametrize("credential", ["", "garbage", "A" * 43])
def test_logout_of_an_unknown_credential_is_not_an_error(h: AuthHarness, credential: str) -> None:
    assert h.call("logout", credential) == 0


def test_logout_of_a_new_session_revokes_nothing(h: AuthHarness) -> None:
    session = h.request()
    assert h.call("logout", session) == 0
    cookie = h.respond(session)
    assert cookie is not None
    assert cookie.deletes


def test_logout_everywhere_revokes_every_session_of_the_user_only(h: AuthHarness) -> None:
    register(h, "alice")
    register(h, "bob")
    alice = [sign_in(h, "alice") for _ in range(3)]
    bob = sign_in(h, "bob")
    session = h.request(alice[0])
    assert h.call("logout", session, everywhere=True) == 3
    for cookie in alice:
        with pytest.raises(SessionRevoked):
            authenticate(h, cookie)
    bob_user = authenticate(h, bob).user
    assert len(h.call("list_sessions", bob_user.id)) == 1


# -- logout_user, list_sessions, revoke_device ---------------------------------------


def test_logout_user_revokes_every_session(h: AuthHarness) -> None:
    user = register(h)
    cookies = [sign_in(h) for _ in range(3)]
    assert h.call("logout_user", user.id) == 3
    for cookie in cookies:
        with pytest.raises(SessionRevoked):
            authenticate(h, cookie)
    assert h.call("list_sessions", user.id) == []
    assert h.call("logout_user", user.id) == 0


def test_logout_user_can_keep_the_current_session(h: AuthHarness) -> None:
    user = register(h)
    current, other = sign_in(h), sign_in(h)
    assert h.call("logout_user", user.id, keep=h.request(current)) == 1
    assert authenticate(h, current).user == user
    with pytest.raises(SessionRevoked):
        authenticate(h, other)
    assert h.call("logout_user", user.id, keep=key_of(current)) == 0


def test_logout_user_of_an_unknown_user_revokes_nothing(h: AuthHarness) -> None:
    assert h.call("logout_user", "nobody") == 0


def test_list_sessions_shows_the_active_devices_current_first(
    h: AuthHarness, clock: FakeClock
) -> None:
    user = register(h)
    phone = sign_in(h, ip="198.51.100.1", agent="Phone")
    clock.advance(10)
    laptop = sign_in(h, ip="198.51.100.2", agent="Laptop")
    clock.advance(10)
    h.call("refresh_session", phone)  # seen most recently
    devices = h.call("list_sessions", user.id, current=h.request(laptop))
    assert [(d.user_agent, d.ip, d.current) for d in devices] == [
        ("Laptop", "198.51.100.2", True),
        ("Phone", "198.51.100.1", False),
    ]
    assert devices[1].last_seen.timestamp() == clock.now
    assert {d.id for d in devices}.isdisjoint({key_of(phone), key_of(laptop)})


def test_list_sessions_leaves_out_revoked_and_expired_sessions(
    h: AuthHarness, clock: FakeClock
) -> None:
    user = register(h)
    stale = sign_in(h, agent="stale")
    clock.advance(timedelta(minutes=20))
    revoked = sign_in(h, agent="revoked")
    live = sign_in(h, agent="live")
    h.call("logout", revoked)
    clock.advance(timedelta(minutes=15))  # "stale" is 35 minutes idle
    devices = h.call("list_sessions", user.id)
    assert [d.user_agent for d in devices] == ["live"]
    assert authenticate(h, live).device.id == devices[0].id
    with pytest.raises(SessionExpired):
        authenticate(h, stale)


def test_list_sessions_of_an_unknown_user_is_empty(h: AuthHarness) -> None:
    assert h.call("list_sessions", "nobody") == []


def test_revoke_device_signs_out_that_device_only(h: AuthHarness) -> None:
    user = register(h)
    mine, other = sign_in(h, agent="mine"), sign_in(h, agent="other")
    target = authenticate(h, other).device.id
    assert h.call("revoke_device", user.id, target) is True
    with pytest.raises(SessionRevoked):
        authenticate(h, other)
    assert authenticate(h, mine).user == user
    assert h.call("revoke_device", user.id, target) is False


def test_revoke_device_of_another_user_is_refused(h: AuthHarness) -> None:
    register(h, "alice")
    mallory = register(h, "mallory")
    alice = sign_in(h, "alice")
    target = authenticate(h, alice).device.id
    assert h.call("revoke_device", mallory.id, target) is False
    assert authenticate(h, alice).user.username == "alice"


# -- change_password -----------------------------------------------------------------


def test_change_password_revokes_the_other_sessions_and_keeps_this_one(
    h: AuthHarness, clock: FakeClock
) -> None:
    user = register(h)
    current, other = sign_in(h), sign_in(h)
    clock.advance(120)
    session = h.request(current)
    revoked = h.call("change_password", user.id, PASSWORD, "a brand new password", session=session)
    assert revoked == 1
    cookie = h.respond(session)
    assert cookie is not None
    assert cookie.value != current  # a new token after the change
    with pytest.raises(SessionRevoked):
        authenticate(h, other)
    found = authenticate(h, cookie.value)
    assert found.user.id == user.id
    assert found.device.authenticated_at.timestamp() == clock.now
    stored = h.users("get", user.id)
    assert stored.password_changed_at == clock.now


def test_change_password_then_only_the_new_password_works(h: AuthHarness) -> None:
    user = register(h)
    h.call("change_password", user.id, PASSWORD, "a brand new password")
    with pytest.raises(InvalidCredentials):
        h.call("login_token", "alice", PASSWORD)
    assert h.call("login_token", "alice", "a brand new password").user.id == user.id


def test_change_password_with_a_wrong_current_password_changes_nothing(
    h: AuthHarness,
) -> None:
    user = register(h)
    other = sign_in(h)
    with pytest.raises(InvalidCredentials):
        h.call("change_password", user.id, "not my password", "a brand new password")
    assert h.users("get", user.id) == user
    assert authenticate(h, other).user == user


def test_change_password_rejects_a_weak_new_password(h: AuthHarness) -> None:
    user = register(h)
    with pytest.raises(InvalidInput) as caught:
        h.call("change_password", user.id, PASSWORD, "short")
    assert caught.value.field == "new_password"
    assert caught.value.to_json()["error"]["field"] == "new_password"


def test_change_password_of_an_unknown_user_is_invalid_credentials(h: AuthHarness) -> None:
    with pytest.raises(InvalidCredentials):
        h.call("change_password", "nobody", PASSWORD, "a brand new password")


def test_change_password_failures_count_towards_the_account_limit(h: AuthHarness) -> None:
    user = register(h)
    for _ in range(3):
        with pytest.raises(InvalidCredentials):
            h.call("change_password", user.id, "wrong password", "a brand new password")
    with pytest.raises(TooManyAttempts):
        h.call("change_password", user.id, PASSWORD, "a brand new password")


# -- failed-login limits -------------------------------------------------------------


def fail(h: AuthHarness, name: str = "alice", ip: str | None = "192.0.2.1") -> None:
    with pytest.raises(InvalidCredentials):
        h.call("login_token", name, "wrong password", ip=ip)


def test_failures_per_account_lock_the_account_with_retry_after(
    h: AuthHarness, clock: FakeClock
) -> None:
    register(h)
    for _ in range(3):
        fail(h, ip=None)
    with pytest.raises(TooManyAttempts) as caught:
        h.call("login_token", "alice", PASSWORD)  # even the right password waits
    error = caught.value
    window_end = (clock.now // 60 + 1) * 60
    assert error.retry_after == math.ceil(window_end - clock.now)
    assert 1 <= error.retry_after <= 60
    assert error.scope == "account"
    assert error.status == 429
    assert error.to_json()["error"] == {
        "code": "too_many_attempts",
        "message": error.message,
        "retry_after": error.retry_after,
    }


def test_accounts_that_do_not_exist_are_limited_alike(h: AuthHarness) -> None:
    for _ in range(3):
        fail(h, "ghost", ip=None)
    with pytest.raises(TooManyAttempts):
        h.call("login_token", "GHOST", "wrong password")


def test_a_locked_account_is_refused_before_any_hashing(
    h: AuthHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    register(h)
    for _ in range(3):
        fail(h, ip=None)
    counts = count_hashing(h, monkeypatch)
    with pytest.raises(TooManyAttempts):
        h.call("login_token", "alice", PASSWORD)
    assert counts == {}


def test_the_limit_lifts_when_the_window_ends(h: AuthHarness, clock: FakeClock) -> None:
    user = register(h)
    for _ in range(3):
        fail(h, ip=None)
    with pytest.raises(TooManyAttempts) as caught:
        h.call("login_token", "alice", PASSWORD)
    clock.advance(caught.value.retry_after)
    assert h.call("login_token", "alice", PASSWORD).user == user


def test_failures_per_address_lock_the_address_across_accounts(h: AuthHarness) -> None:
    register(h, "victim")
    for name in ("a1", "a2", "a3", "a4", "a5"):
        fail(h, name, ip="192.0.2.1")
    with pytest.raises(TooManyAttempts) as caught:
        h.call("login_token", "victim", PASSWORD, ip="192.0.2.1")
    assert caught.value.scope == "address"
    assert h.call("login_token", "victim", PASSWORD, ip="192.0.2.2").user.username == "victim"


def test_ipv6_addresses_count_per_64_network(h: AuthHarness) -> None:
    register(h, "victim")
    for index in range(5):
        fail(h, f"n{index}", ip=f"2001:db8:0:1::{index + 1}")
    with pytest.raises(TooManyAttempts):
        h.call("login_token", "victim", PASSWORD, ip="2001:db8:0:1:ffff::9")
    assert h.call("login_token", "victim", PASSWORD, ip="2001:db8:0:2::1")


def test_success_clears_the_account_failures_but_not_the_address(h: AuthHarness) -> None:
    register(h, "alice")
    register(h, "bob")
    fail(h, "alice")
    fail(h, "alice")
    h.call("login_token", "alice", PASSWORD, ip="192.0.2.1")
    fail(h, "alice")
    fail(h, "alice")  # 2 since the success: the account is not locked
    assert h.call("login_token", "alice", PASSWORD, ip="192.0.2.9")
    fail(h, "bob")  # the address's fifth failure
    with pytest.raises(TooManyAttempts) as caught:
        h.call("login_token", "bob", PASSWORD, ip="192.0.2.1")
    assert caught.value.scope == "address"


def test_concurrent_failures_are_all_counted(h: AuthHarness, clock: FakeClock) -> None:
    outcomes = h.concurrently("login_token", [("target", "wrong password")] * 8)
    refused = [o for o in outcomes if isinstance(o, InvalidCredentials)]
    assert len(refused) + sum(isinstance(o, TooManyAttempts) for o in outcomes) == 8
    limit = Limit("account", "target", 3)
    record = h.load(h.auth.limiter.key(limit, clock.now))
    counted = 0 if record is None else len(record.data)
    assert counted == len(refused) <= 3  # every failure kept; refusals took theirs back
    with pytest.raises((InvalidCredentials, TooManyAttempts)):
        h.call("login_token", "target", "wrong password")
    for _ in range(3):  # the limit holds whatever the burst left
        fail_or_refused(h)
    with pytest.raises(TooManyAttempts):
        h.call("login_token", "target", "wrong password")


def fail_or_refused(h: AuthHarness) -> None:
    with pytest.raises((InvalidCredentials, TooManyAttempts)):
        h.call("login_token", "target", "wrong password")


@pytest.mark.parametrize("scope", ["account", "address"])
def test_a_burst_of_parallel_guesses_verifies_at_most_the_limit(
    session_kind: str, user_kind: str, mode: str, clock: FakeClock, tmp_path: Path, scope: str
) -> None:
    """60 guesses at once against a 5-failure limit (one account; or one address, many
    names): each attempt is counted before its password is verified, so at most 5
    passwords are ever checked (issue 10)."""
    per_account, per_address = (5, 1000) if scope == "account" else (1000, 5)
    config = AuthConfig.development(
        max_failures_per_account=per_account,
        max_failures_per_address=per_address,
        failure_window=timedelta(minutes=1),
    )
    sessions = session_store_url(session_kind, tmp_path)
    users = user_store_url(user_kind, tmp_path)
    h = make_harness(mode, sessions, users, clock, config)
    try:
        register(h, "target")
        verified = count_verifications(h)
        guesses = [
            ("target" if scope == "account" else f"name{i}", f"guess {i}") for i in range(60)
        ]
        outcomes = h.concurrently("login_token", guesses, ip="192.0.2.5")
        assert all(isinstance(o, InvalidCredentials | TooManyAttempts) for o in outcomes)
        failed = sum(isinstance(o, InvalidCredentials) for o in outcomes)
        assert failed == len(verified) <= 5
        refused = [o for o in outcomes if isinstance(o, TooManyAttempts)]
        assert all(o.scope == scope for o in refused)
    finally:
        h.close()
        drop_user_table(users)


def count_verifications(h: AuthHarness) -> list[str]:
    """Record every password verification, real or dummy (the real ones still run)."""
    seen: list[str] = []
    hasher = h.auth.hasher
    real, dummy = hasher.verify, hasher.verify_dummy

    def verify(password_hash: str, password: str) -> bool:
        seen.append(password)  # list.append is atomic: safe from the sync harness's threads
        return real(password_hash, password)

    def verify_dummy(password: str) -> bool:
        seen.append(password)
        return dummy(password)

    hasher.verify = verify  # type: ignore[method-assign]  # counting, then the real one
    hasher.verify_dummy = verify_dummy  # type: ignore[method-assign]  # likewise
    return seen


def test_a_successful_login_takes_back_its_address_entry(h: AuthHarness, clock: FakeClock) -> None:
    register(h)
    fail(h, "someone", ip="192.0.2.1")
    h.call("login_token", "alice", PASSWORD, ip="192.0.2.1")
    limit = Limit("address", "192.0.2.1", 5)
    record = h.load(h.auth.limiter.key(limit, clock.now))
    assert record is not None
    assert len(record.data) == 1  # the failure only


def test_failed_login_records_hold_no_user_and_no_name(h: AuthHarness, clock: FakeClock) -> None:
    fail(h, "alice")
    limit = Limit("account", "alice", 3)
    record = h.load(h.auth.limiter.key(limit, clock.now))
    assert record is not None
    assert record.user_id is None
    assert "alice" not in repr(record.data)
