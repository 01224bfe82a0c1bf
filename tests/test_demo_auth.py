"""The demo's accounts, through its pages: register, login, devices, logout everywhere."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from websession import SessionConfig
from websession.auth import AsyncAuth, AuthConfig
from websession.core.session import REVOKED_KEY
from websession.demo.app import create_app, default_users_url, shutdown
from websession.testing import FakeClock

PASSWORD = "correct horse battery"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def app(tmp_path: Path, clock: FakeClock) -> AsyncIterator[Starlette]:
    demo = create_app(
        f"sqlite:///{tmp_path / 'demo-sessions.db'}",
        SessionConfig.development(),
        auth_config=AuthConfig.development(max_failures_per_account=3),
        clock=clock,
    )
    yield demo
    await shutdown(demo)


def browser(app: Starlette, agent: str) -> httpx.AsyncClient:
    """A client that posts forms as a browser does on the same site (``Origin`` sent:
    the demo's CSRF check lets it through; tests/test_demo_pages.py checks refusals)."""
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://testserver",
        follow_redirects=True,
        headers={"user-agent": agent, "accept": "text/html", "origin": "http://testserver"},
    )


def flashes(page: httpx.Response) -> list[str]:
    return [html.unescape(m) for m in re.findall(r'class="flash[^"]*"[^>]*>([^<]*)<', page.text)]


def signed_in_as(page: httpx.Response) -> str | None:
    found = re.search(r'id="user">([^<]*)<', page.text)
    return html.unescape(found.group(1)) if found else None


def device_ids(page: httpx.Response) -> list[str]:
    return re.findall(r'name="device" value="([^"]*)"', page.text)


async def register(client: httpx.AsyncClient, name: str = "alice") -> httpx.Response:
    return await client.post("/register", data={"username": name, "password": PASSWORD})


async def login(
    client: httpx.AsyncClient, name: str = "alice", password: str = PASSWORD, next_path: str = ""
) -> httpx.Response:
    data = {"username": name, "password": password}
    if next_path:
        data["next"] = next_path
    return await client.post("/login", data=data)


def auth_of(app: Starlette) -> AsyncAuth:
    auth: AsyncAuth = app.state.auth
    return auth


# -- the counter and flash behaviour stay ------------------------------------------------


async def test_home_counts_visits_without_an_account(app: Starlette) -> None:
    client = browser(app, "Firefox")
    first = await client.get("/")
    assert re.search(r'id="visits">1<', first.text)
    assert "You are not logged in" in first.text
    second = await client.get("/")
    assert re.search(r'id="visits">2<', second.text)


async def test_health_needs_no_session(app: Starlette) -> None:
    response = await browser(app, "probe").get("/health")
    assert response.text == "ok"
    assert "set-cookie" not in response.headers


# -- register and login --------------------------------------------------------------


async def test_register_creates_the_account_and_logs_it_in(app: Starlette) -> None:
    client = browser(app, "Firefox")
    await client.get("/")
    page = await register(client)
    assert flashes(page) == ["Welcome, alice! Your account is ready."]
    assert signed_in_as(page) == "alice"
    assert re.search(r'id="visits">2<', page.text)  # the anonymous counter survived login


@pytest.mark.parametrize(
    ("name", "password", "message"),
    [
        ("alice", PASSWORD, "That username is already taken."),
        ("bob", "short", "The password must be at least 8 characters."),
        ("two words", PASSWORD, "The username must not contain spaces or control characters."),
    ],
)
async def test_register_errors_are_flashed(
    app: Starlette, name: str, password: str, message: str
) -> None:
    await register(browser(app, "first"))
    client = browser(app, "Firefox")
    page = await client.post("/register", data={"username": name, "password": password})
    assert page.url.path == "/register"
    assert flashes(page) == [message]
    assert signed_in_as(await client.get("/")) is None


async def test_login_with_the_password(app: Starlette) -> None:
    await register(browser(app, "laptop"))
    phone = browser(app, "phone")
    page = await login(phone, "ALICE")
    assert flashes(page) == ["Welcome back, alice!"]
    assert signed_in_as(page) == "alice"


async def test_a_wrong_password_is_flashed_and_logs_nobody_in(app: Starlette) -> None:
    await register(browser(app, "laptop"))
    phone = browser(app, "phone")
    page = await login(phone, password="wrong password")
    assert page.url.path == "/login"
    assert flashes(page) == ["The username or password is incorrect."]
    assert signed_in_as(await phone.get("/")) is None


async def test_too_many_failures_are_refused_with_a_wait(app: Starlette) -> None:
    await register(browser(app, "laptop"))
    attacker = browser(app, "attacker")
    for _ in range(3):
        await login(attacker, password="guess")
    page = await login(attacker)  # even the right password waits now
    assert len(flashes(page)) == 1
    assert flashes(page)[0].startswith("Too many failed attempts. Try again in ")
    assert signed_in_as(await attacker.get("/")) is None


async def test_a_protected_page_sends_to_login_and_back(app: Starlette) -> None:
    await register(browser(app, "laptop"))
    phone = browser(app, "phone")
    page = await phone.get("/devices")
    assert page.url.path == "/login"
    assert page.url.params["next"] == "/devices"
    assert flashes(page) == ["Please log in to continue."]
    assert 'name="next" value="/devices"' in page.text
    page = await login(phone, next_path="/devices")
    assert page.url.path == "/devices"


async def test_a_failed_login_keeps_where_to_return(app: Starlette) -> None:
    await register(browser(app, "laptop"))
    page = await login(browser(app, "phone"), password="wrong", next_path="/devices?tab=a&b=1")
    assert page.url.path == "/login"
    assert page.url.params["next"] == "/devices?tab=a&b=1"


async def test_login_never_redirects_off_site(app: Starlette) -> None:
    await register(browser(app, "laptop"))
    page = await login(browser(app, "phone"), next_path="//evil.example/")
    assert page.url.host == "testserver"
    assert page.url.path == "/"


async def test_api_clients_get_json_from_protected_pages(app: Starlette) -> None:
    client = browser(app, "script")
    response = await client.get("/devices", headers={"accept": "application/json"})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_required"


# -- devices, sign out, logout everywhere ----------------------------------------------


async def test_devices_sign_out_and_logout_everywhere(app: Starlette) -> None:
    laptop, phone = browser(app, "Laptop/1.0"), browser(app, "Phone/2.0")
    await register(laptop)
    await login(phone)

    page = await laptop.get("/devices")
    assert page.status_code == 200
    assert len(re.findall(r'class="device"', page.text)) == 2
    assert "this device" in page.text
    assert "Phone/2.0" in page.text
    assert "127.0.0.1" in page.text
    (phone_id,) = device_ids(page)

    page = await laptop.post("/devices/revoke", data={"device": phone_id})
    assert flashes(page) == ["That device has been signed out."]
    assert device_ids(page) == []
    page = await phone.get("/devices")
    assert page.url.path == "/login"
    assert flashes(page) == ["This session was signed out. Please log in again."]

    await login(phone)
    tablet = browser(app, "Tablet/3.0")
    await login(tablet)
    page = await laptop.post("/devices/revoke-others")
    assert flashes(page) == ["Signed out 2 other devices."]
    assert signed_in_as(await phone.get("/")) is None
    assert signed_in_as(await tablet.get("/")) is None

    await login(phone)
    page = await laptop.post("/logout-everywhere")
    assert flashes(page) == ["You have been logged out everywhere (2 sessions)."]
    assert signed_in_as(page) is None
    assert signed_in_as(await phone.get("/")) is None


async def test_signing_out_a_device_twice_says_so(app: Starlette) -> None:
    laptop, phone = browser(app, "laptop"), browser(app, "phone")
    await register(laptop)
    await login(phone)
    (phone_id,) = device_ids(await laptop.get("/devices"))
    await laptop.post("/devices/revoke", data={"device": phone_id})
    page = await laptop.post("/devices/revoke", data={"device": phone_id})
    assert flashes(page) == ["That device was already signed out."]


async def test_logout_revokes_the_session_and_flashes(app: Starlette) -> None:
    client = browser(app, "laptop")
    await register(client)
    cookie = client.cookies["session"]
    page = await client.post("/logout")
    assert flashes(page) == ["You have been logged out."]
    assert signed_in_as(page) is None
    assert client.cookies["session"] != cookie
    user = await auth_of(app).users.find("alice")
    assert user is not None
    (kept,) = await auth_of(app).sessions.list_user(user.id, 0)
    assert REVOKED_KEY in kept[1].data  # kept, marked revoked, until its deadline
    replay = browser(app, "thief")
    replay.cookies.set("session", cookie)
    assert signed_in_as(await replay.get("/")) is None


# -- password change -----------------------------------------------------------------


async def test_password_change_signs_out_the_other_devices(app: Starlette) -> None:
    laptop, phone = browser(app, "laptop"), browser(app, "phone")
    await register(laptop)
    await login(phone)
    page = await laptop.post(
        "/password", data={"current": PASSWORD, "new": "an even better password"}
    )
    assert flashes(page) == ["Your password was changed; 1 other session was signed out."]
    assert signed_in_as(page) == "alice"
    assert signed_in_as(await phone.get("/")) is None
    assert flashes(await login(phone)) == ["The username or password is incorrect."]
    assert signed_in_as(await login(phone, password="an even better password")) == "alice"


async def test_password_change_errors_are_flashed(app: Starlette) -> None:
    laptop = browser(app, "laptop")
    await register(laptop)
    page = await laptop.post("/password", data={"current": "wrong password", "new": "x" * 12})
    assert flashes(page) == ["The username or password is incorrect."]
    page = await laptop.post("/password", data={"current": PASSWORD, "new": "short"})
    assert flashes(page) == ["The password must be at least 8 characters."]


async def test_password_change_needs_a_recent_login(app: Starlette, clock: FakeClock) -> None:
    laptop = browser(app, "laptop")
    await register(laptop)
    assert (await laptop.get("/password")).url.path == "/password"
    clock.advance(timedelta(hours=2))
    await laptop.get("/")  # keeps the session alive, the login is still old
    page = await laptop.get("/password")
    assert page.url.path == "/login"
    assert flashes(page) == ["Please log in again to continue."]
    page = await login(laptop, next_path="/password")
    assert page.url.path == "/password"


# -- where users live ----------------------------------------------------------------


async def test_users_live_in_sqlite_next_to_the_sessions(app: Starlette, tmp_path: Path) -> None:
    await register(browser(app, "laptop"))
    assert (tmp_path / "demo-users.db").exists()


@pytest.mark.parametrize(
    ("store", "users"),
    [
        ("sqlite:///demo-sessions.db", "sqlite:///demo-users.db"),
        ("sqlite:///data/app.db", "sqlite:///data/app-users.db"),
        ("sqlite:////var/lib/x/sessions.db", "sqlite:////var/lib/x/sessions-users.db"),
        ("sqlite:///noext", "sqlite:///noext-users.db"),
        ("sqlite://", "memory://"),
        ("memory://", "memory://"),
        ("postgresql://u@db/app?table=s", "postgresql://u@db/app"),
        ("redis://localhost:6379/0", "sqlite:///demo-users.db"),
        ("file:///tmp/sessions", "sqlite:///demo-users.db"),
    ],
)
def test_default_users_url(store: str, users: str) -> None:
    assert default_users_url(store) == users
