"""The parts of the auth layer without stores: errors, config, passwords, names, helpers."""

from __future__ import annotations

import asyncio
import threading
from datetime import timedelta
from typing import Any, cast

import pytest

from tests.test_cli import PlainStore
from websession import SessionConfig
from websession.auth import (
    AsyncAuth,
    Auth,
    AuthConfig,
    AuthenticationRequired,
    AuthError,
    InvalidCredentials,
    InvalidInput,
    InvalidSession,
    ReauthenticationRequired,
    SessionExpired,
    SessionRevoked,
    TooManyAttempts,
    UserExists,
    error_json,
)
from websession.auth._compat import gather, gather_async
from websession.auth.passwords import PasswordHasher, check_password
from websession.auth.ratelimit import Limit, RateLimiter, address_subject
from websession.auth.users import check_username, username_key
from websession.errors import (
    ConfigError,
    SessionDataError,
    StoreError,
    StoreTimeout,
    StoreUnavailable,
    WebsessionError,
)
from websession.stores.base import Store, UserIndex, is_session_key, record_key

FAST = AuthConfig.development()

# -- errors --------------------------------------------------------------------------

ERRORS: list[tuple[AuthError, str, int]] = [
    (InvalidCredentials(), "invalid_credentials", 401),
    (InvalidSession(), "invalid_session", 401),
    (SessionExpired(), "session_expired", 401),
    (SessionRevoked(), "session_revoked", 401),
    (AuthenticationRequired(), "authentication_required", 401),
    (ReauthenticationRequired(), "reauthentication_required", 401),
    (InvalidInput("Bad.", field="username"), "invalid_input", 422),
    (UserExists(), "user_exists", 409),
    (TooManyAttempts(30), "too_many_attempts", 429),
]


@pytest.mark.parametrize(("error", "code", "status"), ERRORS, ids=[c for _, c, _ in ERRORS])
def test_every_error_has_a_stable_code_a_status_and_a_json_body(
    error: AuthError, code: str, status: int
) -> None:
    assert isinstance(error, WebsessionError)
    assert error.code == code
    assert error.status == status
    assert str(error) == error.message
    assert error.message.endswith(".")
    body = error.to_json()
    assert body["error"]["code"] == code
    assert body["error"]["message"] == error.message
    assert error_json(error) == body


def test_error_codes_are_unique() -> None:
    codes = [code for _, code, _ in ERRORS]
    assert len(set(codes)) == len(codes)


def test_expired_and_revoked_are_invalid_sessions() -> None:
    assert issubclass(SessionExpired, InvalidSession)
    assert issubclass(SessionRevoked, InvalidSession)
    assert not issubclass(InvalidCredentials, InvalidSession)


def test_invalid_input_names_its_field() -> None:
    assert InvalidInput("Too short.", field="password").to_json() == {
        "error": {"code": "invalid_input", "message": "Too short.", "field": "password"}
    }
    assert "field" not in InvalidInput("No.").to_json()["error"]


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (1, "1 second"),
        (45, "45 seconds"),
        (119, "119 seconds"),
        (600, "10 minutes"),
        (0, "1 second"),
    ],
)
def test_too_many_attempts_says_when_to_retry(seconds: int, text: str) -> None:
    error = TooManyAttempts(seconds, scope="address")
    assert error.retry_after == max(1, seconds)
    assert error.message == f"Too many failed attempts. Try again in {text}."
    assert error.to_json()["error"]["retry_after"] == error.retry_after
    assert error.scope == "address"


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (StoreError("sqlite said: disk I/O error at /var/db"), "store_error"),
        (StoreUnavailable("connection refused to 10.0.0.5"), "store_unavailable"),
        (StoreTimeout("timeout"), "store_timeout"),
    ],
)
def test_store_errors_get_a_safe_json_body(error: StoreError, code: str) -> None:
    body = error_json(error)
    assert body == {
        "error": {
            "code": code,
            "message": "The session store is unavailable. Please try again shortly.",
        }
    }


def test_other_errors_get_a_generic_json_body() -> None:
    body = error_json(SessionDataError("value for key 'x' is not JSON"))
    assert body["error"] == {"code": "session_data_error", "message": "Something went wrong."}


# -- config --------------------------------------------------------------------------


def test_presets_differ_where_documented() -> None:
    dev, prod = AuthConfig.development(), AuthConfig.production()
    assert prod == AuthConfig()
    assert (prod.time_cost, prod.memory_cost, prod.parallelism) == (3, 65536, 4)
    assert (dev.time_cost, dev.memory_cost, dev.parallelism) == (1, 1024, 1)
    assert (dev.min_password_length, prod.min_password_length) == (8, 12)
    assert prod.max_failures_per_account == 5
    assert prod.failure_window == timedelta(minutes=15)
    assert dev.max_failures_per_account > prod.max_failures_per_account
    assert prod.recent_auth_max_age < dev.recent_auth_max_age


def test_presets_take_overrides() -> None:
    assert AuthConfig.development(min_password_length=10).min_password_length == 10
    assert AuthConfig.production(login_path="/signin").login_path == "/signin"
    assert FAST.replace(hash_workers=2).hash_workers == 2


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"time_cost": 0}, "time_cost"),
        ({"parallelism": 2, "memory_cost": 8}, "memory_cost"),
        ({"memory_cost": 1.5}, "memory_cost"),
        ({"min_password_length": 0}, "min_password_length"),
        ({"min_password_length": 20, "max_password_length": 10}, "max_password_length"),
        ({"max_failures_per_account": -1}, "max_failures_per_account"),
        ({"failure_window": timedelta(0)}, "failure_window"),
        ({"recent_auth_max_age": 60}, "recent_auth_max_age"),
        ({"login_path": "https://evil.example/login"}, "login_path"),
        ({"login_path": "//evil.example"}, "login_path"),
        ({"hash_workers": True}, "hash_workers"),
    ],
)
def test_config_validation_says_what_to_fix(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        AuthConfig(**options)


# -- passwords -----------------------------------------------------------------------


def test_hash_is_argon2id_with_the_configured_parameters() -> None:
    hasher = PasswordHasher(AuthConfig.development(time_cost=2, memory_cost=256))
    hashed = hasher.hash("correct horse battery")
    assert hashed.startswith("$argon2id$v=19$m=256,t=2,p=1$")
    assert hasher.verify(hashed, "correct horse battery")
    assert not hasher.verify(hashed, "correct horse batterY")
    assert hashed != hasher.hash("correct horse battery")  # salted


def test_a_malformed_stored_hash_never_matches() -> None:
    hasher = PasswordHasher(FAST)
    assert not hasher.verify("not a hash", "anything")
    assert not hasher.verify("", "")
    assert hasher.needs_rehash("not a hash")


def test_needs_rehash_when_the_parameters_change() -> None:
    old = PasswordHasher(AuthConfig.development(time_cost=1))
    new = PasswordHasher(AuthConfig.development(time_cost=2))
    hashed = old.hash("pw-12345678")
    assert not old.needs_rehash(hashed)
    assert new.needs_rehash(hashed)
    assert new.verify(hashed, "pw-12345678")  # old hashes still verify


def test_verify_dummy_does_real_work_and_never_matches() -> None:
    hasher = PasswordHasher(FAST)
    assert hasher.verify_dummy("websession: no such user") is False
    assert not hasher.needs_rehash(hasher._dummy_hash())


def test_passwords_are_compared_after_nfkc_normalization() -> None:
    hasher = PasswordHasher(FAST)
    hashed = hasher.hash("\uff50\uff41\uff53\uff53\uff57\uff4f\uff52\uff44\uff11")  # fullwidth
    assert hasher.verify(hashed, "password1")
    composed = hasher.hash("caf\u00e9 au lait")
    assert hasher.verify(composed, "cafe\u0301 au lait")


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short", "at least 8"),
        ("y" * 1025, "at most 1024"),
        (" " * 10, "only spaces"),
        ("Alice-the-user", "not be the username"),
        (12345678, "text"),
    ],
)
def test_password_rules(password: object, message: str) -> None:
    with pytest.raises(InvalidInput, match=message) as caught:
        check_password(password, FAST, username="alice-the-user")
    assert caught.value.field == "password"


def test_password_rules_accept_a_good_password() -> None:
    assert check_password("\uff57\uff49\uff44\uff45 password", FAST) == "wide password"


# -- usernames -----------------------------------------------------------------------


def test_usernames_are_normalized_and_keyed_without_case() -> None:
    assert check_username("  \uff22\uff4f\uff42  ", FAST) == "Bob"
    assert username_key("Bob") == username_key("BOB") == username_key("\uff42\uff4f\uff42") == "bob"
    assert username_key("Straße") == username_key("STRASSE")


@pytest.mark.parametrize("name", ["", "   ", "a b", "line\nbreak", "zero\u200bwidth", 42])
def test_username_rules(name: object) -> None:
    with pytest.raises(InvalidInput) as caught:
        check_username(name, FAST)
    assert caught.value.field == "username"


def test_usernames_may_be_email_addresses_and_unicode() -> None:
    assert check_username("jo.doe+tag@example.org", FAST) == "jo.doe+tag@example.org"
    assert check_username("Zoë", FAST) == "Zoë"


# -- addresses -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ip", "subject"),
    [
        ("192.0.2.7", "192.0.2.7"),
        (" 192.0.2.7 ", "192.0.2.7"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("2001:DB8:1:2::9", "2001:db8:1:2::/64"),
        ("::ffff:192.0.2.7", "192.0.2.7"),
        ("testclient", "testclient"),
    ],
)
def test_address_subjects(ip: str, subject: str) -> None:
    assert address_subject(ip) == subject


# -- the async/sync primitives and the service's construction --------------------------


async def test_gather_async_runs_calls_concurrently_in_order() -> None:
    started: list[str] = []
    release = asyncio.Event()

    async def call(name: str) -> str:
        started.append(name)
        if len(started) == 2:
            release.set()
        await release.wait()  # both must have started before either finishes
        return name.upper()

    assert await asyncio.wait_for(gather_async(call("a"), call("b")), 5) == ["A", "B"]


async def test_gather_async_lets_every_call_finish_before_raising() -> None:
    finished: list[str] = []

    async def call(name: str) -> str:
        await asyncio.sleep(0)
        finished.append(name)
        if name == "boom":
            raise StoreError("boom")
        return name

    with pytest.raises(StoreError, match="boom"):
        await gather_async(call("boom"), call("after"))
    assert sorted(finished) == ["after", "boom"]


def test_gather_is_the_results_of_calls_made_in_order() -> None:
    assert gather(1, 2, 3) == [1, 2, 3]


def test_a_session_store_without_a_user_index_is_refused_clearly() -> None:
    store = cast(Store, PlainStore())  # the core operations, typed as the core protocol
    assert not isinstance(store, UserIndex)
    with pytest.raises(ConfigError, match="per-user index"):
        Auth(store, "memory://", session_config=SessionConfig.development(), config=FAST)


def test_failed_login_records_use_the_ratelimit_namespace() -> None:
    limiter = RateLimiter(FAST)
    key = limiter.key(Limit("account", "alice", 3), 1_700_000_000.0)
    assert key.startswith("ratelimit.")
    assert not is_session_key(key)
    assert key == record_key("ratelimit", f"account:{1_700_000_000 // 60}:alice")


async def test_async_service_never_hashes_on_the_event_loop() -> None:
    auth = AsyncAuth(
        "memory://", "memory://", session_config=SessionConfig.development(), config=FAST
    )
    hasher = auth.hasher
    seen: list[int] = []
    real_hash, real_verify = hasher.hash, hasher.verify

    def hash_(password: str) -> str:
        seen.append(threading.get_ident())
        return real_hash(password)

    def verify(password_hash: str, password: str) -> bool:
        seen.append(threading.get_ident())
        return real_verify(password_hash, password)

    hasher.hash = hash_  # type: ignore[method-assign]
    hasher.verify = verify  # type: ignore[method-assign]
    await auth.register_user("alice", "correct horse battery")
    await auth.login_token("alice", "correct horse battery")
    await auth.close()
    assert len(seen) == 2
    assert threading.get_ident() not in seen


def test_new_user_ids_never_start_with_a_dash() -> None:
    """An id is a command-line argument of ``websession revoke-user``: a leading dash
    would be taken for an option (1 in 64 of ``token_urlsafe``'s values)."""
    from websession.auth.users import new_user_id

    ids = [new_user_id() for _ in range(2000)]
    assert all(not user_id.startswith("-") for user_id in ids)
    assert len(set(ids)) == len(ids)
