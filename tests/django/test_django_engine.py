"""The websession Django engine end to end, through Django's test Client: cookies,
store calls per request, auth login/logout, messages, async views, user binding,
logout everywhere, and the settings."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test import AsyncClient, Client, override_settings
from django.test.utils import CaptureQueriesContext

from tests.django.conftest import SECRET
from tests.django.helpers import spy_on, sqlite_url
from websession.integrations.django import (
    SessionStore,
    adevices,
    alogout_everywhere,
    devices,
    logout_everywhere,
)
from websession.integrations.django.settings import shared_store

pytestmark = pytest.mark.usefixtures("auth_db")


@pytest.fixture
def url(tmp_path: Path) -> Iterator[str]:
    """The engine on a fresh SQLite store."""
    url = sqlite_url(tmp_path)
    with override_settings(WEBSESSION_STORE=url):
        yield url
    shared_store(url).close()


def cookie(client: Client) -> str:
    """The session cookie the client holds ('' if none)."""
    morsel = client.cookies.get("sessionid")
    return morsel.value if morsel is not None else ""


def client_with(value: str) -> Client:
    """A new client that sends the session cookie ``value``."""
    client = Client()
    client.cookies["sessionid"] = value
    return client


def key_of(session: SessionStore) -> str | None:
    """The session's key now (mypy keeps an attribute narrowed across calls)."""
    key: str | None = session.session_key
    return key


def make_user() -> User:
    user: User = User.objects.create_user(f"u{secrets.token_hex(4)}", password="pw")
    return user


def log_in(client: Client, user: User, **headers: Any) -> None:
    response = client.get("/login", {"username": user.username, "password": "pw"}, **headers)
    assert response.status_code == 200


# -- cookies and store calls per request ---------------------------------------------------


def test_modified_session_sets_the_cookie(url: str) -> None:
    client = Client()
    response = client.get("/write", {"v": "1"})
    assert "sessionid" in response.cookies
    assert response.headers["Vary"] == "Cookie"
    assert client.get("/read").json() == {"value": "1"}


def test_untouched_anonymous_request_sets_no_cookie_and_calls_no_store(url: str) -> None:
    spy = spy_on(url)
    client = Client()
    for page in ("/untouched", "/read", "/whoami"):
        assert client.get(page).cookies == {}
    assert spy.take() == []


def test_forged_cookie_never_reaches_the_store(url: str) -> None:
    client = Client()
    client.get("/write")
    token, _, signature = cookie(client).partition(".")
    spy = spy_on(url)
    for value in ("abc", f"{token}.{signature[::-1]}", f"{token[::-1]}.{signature}"):
        assert client_with(value).get("/read").json() == {}
    assert spy.take() == []


def test_read_request_is_one_load_and_no_write(url: str) -> None:
    client = Client()
    client.get("/write")
    spy = spy_on(url)
    response = client.get("/read")
    assert response.json() == {"value": "x"}
    assert "sessionid" not in response.cookies
    assert spy.take() == ["load"]


def test_write_request_is_one_load_and_one_patch(url: str) -> None:
    client = Client()
    client.get("/write", {"key": "a"})
    spy = spy_on(url)
    client.get("/write", {"key": "b"})
    assert spy.take() == ["load", "update"]
    assert client.get("/read").json() == {"a": "x", "b": "x"}


def test_no_query_on_djangos_database_for_sessions(url: str) -> None:
    client = Client()
    with CaptureQueriesContext(connection) as queries:
        client.get("/write")
        client.get("/read")
        client.get("/untouched")
    assert len(queries) == 0


# -- auth ----------------------------------------------------------------------------------


def test_login_rotates_the_cookie_and_keeps_the_data(url: str) -> None:
    client = Client()
    client.get("/write", {"v": "cart"})
    anonymous = cookie(client)
    user = make_user()
    log_in(client, user)
    assert cookie(client) != anonymous
    assert client.get("/whoami").content.decode() == user.username
    assert client.get("/read").json()["value"] == "cart"
    assert client_with(anonymous).get("/read").json() == {}


def test_logout_flushes_and_the_old_cookie_is_anonymous(url: str) -> None:
    client = Client()
    user = make_user()
    log_in(client, user)
    signed_in = cookie(client)
    response = client.get("/logout")
    assert response.cookies["sessionid"].value == ""
    old = client_with(signed_in)
    assert old.get("/whoami").content == b""
    assert old.get("/read").json() == {}


def test_test_client_login_force_login_and_session(url: str) -> None:
    user = make_user()
    client = Client()
    assert client.login(username=user.username, password="pw")
    assert client.get("/whoami").content.decode() == user.username
    session = client.session
    session["note"] = "hi"
    session.save()
    assert client.get("/read").json()["note"] == "hi"
    other = Client()
    other.force_login(user)
    assert other.get("/whoami").content.decode() == user.username
    other.logout()
    assert other.get("/whoami").content == b""


def test_login_binds_the_user_and_lists_devices(url: str) -> None:
    user = make_user()
    phone, laptop = Client(), Client()
    log_in(phone, user, HTTP_USER_AGENT="phone")
    log_in(laptop, user, HTTP_USER_AGENT="laptop")
    session = SessionStore(cookie(laptop))
    record = shared_store(url).sync().load(session.store_key())  # type: ignore[arg-type]
    assert record is not None
    assert record.user_id == str(user.pk)
    listed = devices(user, current=session)
    assert sorted(d.user_agent or "" for d in listed) == ["laptop", "phone"]
    assert [d.user_agent for d in listed if d.current] == ["laptop"]


def test_logout_everywhere_keeps_only_the_asking_session(url: str) -> None:
    user = make_user()
    phone, laptop = Client(), Client()
    log_in(phone, user)
    log_in(laptop, user)
    assert logout_everywhere(user, keep=SessionStore(cookie(laptop))) == 1
    assert phone.get("/whoami").content == b""
    assert laptop.get("/whoami").content.decode() == user.username
    assert len(devices(user)) == 1


def test_logout_unbinds_the_user(url: str) -> None:
    user = make_user()
    client = Client()
    log_in(client, user)
    client.get("/logout")
    assert devices(user) == []


# -- messages and async views --------------------------------------------------------------


def test_messages_with_session_storage(url: str) -> None:
    client = Client()
    client.get("/flash", {"m": "saved"})
    assert client.get("/messages").json() == ["saved"]
    assert client.get("/messages").json() == []


def test_async_views_use_the_async_api(url: str) -> None:
    client = Client()
    client.get("/awrite", {"v": "2"})
    assert client.get("/aread").content == b"2"
    assert client.get("/read").json() == {"value": "2"}


# -- the session object --------------------------------------------------------------------


def test_init_does_no_io(url: str) -> None:
    session = SessionStore()
    session["a"] = 1
    session.save()
    spy = spy_on(url)
    assert SessionStore(session.session_key).session_key == session.session_key
    assert spy.take() == []


def test_dead_key_loads_empty_then_save_creates_a_new_key(url: str) -> None:
    session = SessionStore()
    session["a"] = 1
    session.save()
    old = session.session_key
    SessionStore().delete(old)
    again = SessionStore(old)
    assert again.load() == {}
    assert again.session_key is None
    again["b"] = 2
    again.save()
    new = key_of(again)
    assert new not in (None, old)
    assert SessionStore(new).load() == {"b": 2}


def test_cycle_of_a_session_deleted_elsewhere_does_not_revive_it(url: str) -> None:
    session = SessionStore()
    session["a"] = 1
    session.save()
    old = session.session_key
    loaded = SessionStore(old)
    assert loaded.load() == {"a": 1}
    SessionStore().delete(old)
    loaded.cycle_key()
    assert loaded.session_key is None
    assert dict(loaded.items()) == {}
    assert not loaded.exists(old)


def test_patches_of_different_keys_both_survive(url: str) -> None:
    session = SessionStore()
    session.update({"a": 0, "b": 0})
    session.save()
    first, second = SessionStore(session.session_key), SessionStore(session.session_key)
    first["a"] = first["a"] + 1
    second["b"] = second["b"] + 1
    first.save()
    second.save()
    assert SessionStore(session.session_key).load() == {"a": 1, "b": 1}


def test_in_place_mutation_is_saved(url: str) -> None:
    session = SessionStore()
    session["cart"] = [1]
    session.save()
    again = SessionStore(session.session_key)
    again["cart"].append(2)
    again.modified = True
    again.save()
    assert SessionStore(session.session_key).load() == {"cart": [1, 2]}


def test_past_expiry_ends_the_session_at_once(url: str) -> None:
    session = SessionStore()
    session["a"] = 1
    session.save()
    old = session.session_key
    session.set_expiry(-10)
    session.save()
    assert not SessionStore().exists(old)


def test_custom_expiry_is_the_records_deadline(url: str) -> None:
    session = SessionStore()
    session.set_expiry(60)
    session.save()
    record = session.record
    assert record is not None
    assert record.expires_at - record.last_seen == pytest.approx(60)


# -- settings ------------------------------------------------------------------------------


def test_a_short_websession_secret_is_refused(url: str) -> None:
    with (
        override_settings(WEBSESSION_SECRET="short"),
        pytest.raises(ImproperlyConfigured, match="WEBSESSION_SECRET"),
    ):
        SessionStore()


def test_secret_key_signs_when_long_enough(url: str, settings_without_secret: None) -> None:
    with override_settings(SECRET_KEY="k" * 40):
        session = SessionStore()
        session["a"] = 1
        session.save()
        assert SessionStore(session.session_key).load() == {"a": 1}
    with (
        override_settings(SECRET_KEY="k" * 20),
        pytest.raises(ImproperlyConfigured, match="SECRET_KEY"),
    ):
        SessionStore()


@pytest.fixture
def settings_without_secret() -> Iterator[None]:
    from django.conf import settings

    with override_settings():
        del settings.WEBSESSION_SECRET
        yield


def test_websession_dict_sets_the_timeouts(url: str) -> None:
    from datetime import timedelta

    with override_settings(WEBSESSION={"idle_timeout": timedelta(minutes=5)}):
        session = SessionStore()
        assert session.policy.config.idle_timeout == timedelta(minutes=5)
    with (
        override_settings(WEBSESSION={"idle_timeout": "soon"}),
        pytest.raises(ImproperlyConfigured),
    ):
        SessionStore()


def test_a_cookie_url_is_not_a_store(url: str) -> None:
    with (
        override_settings(WEBSESSION_STORE="cookie://"),
        pytest.raises(ImproperlyConfigured, match="WEBSESSION_STORE"),
    ):
        SessionStore()


def test_a_read_past_the_refresh_threshold_moves_the_deadline(url: str) -> None:
    client = Client()
    client.get("/write")
    with override_settings(WEBSESSION={"refresh_threshold": 0.0}):
        spy = spy_on(url)
        response = client.get("/read")
        assert spy.take() == ["load", "touch"]
        assert response.cookies["sessionid"].value == cookie(client)


def test_a_cookie_signed_by_a_previous_secret_is_re_signed(url: str) -> None:
    client = Client()
    client.get("/write")
    old = cookie(client)
    with override_settings(WEBSESSION_SECRET="n" * 40, WEBSESSION={"previous_secrets": [SECRET]}):
        response = client.get("/read")
        assert response.json() == {"value": "x"}
        assert response.cookies["sessionid"].value not in ("", old)
        assert client.get("/read").json() == {"value": "x"}


# -- async ------------------------------------------------------------------------------------


async def test_async_client_and_async_views(url: str) -> None:
    client = AsyncClient()
    response = await client.get("/awrite", {"v": "3"})
    assert "sessionid" in response.cookies
    assert (await client.get("/aread")).content == b"3"


@pytest.fixture
def two_logins(url: str) -> tuple[User, Client, Client]:
    user = make_user()
    phone, laptop = Client(), Client()
    log_in(phone, user)
    log_in(laptop, user)
    return user, phone, laptop


async def test_async_devices_and_logout_everywhere(
    two_logins: tuple[User, Client, Client],
) -> None:
    user, _, laptop = two_logins
    keep = SessionStore(cookie(laptop))
    assert len(await adevices(user)) == 2
    assert await alogout_everywhere(user, keep=keep) == 1
    assert [d.current for d in await adevices(user, current=keep)] == [True]
