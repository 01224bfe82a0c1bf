"""The demo's tour pages over ASGI: CSRF, private pages, errors, admin, the cart's
concurrent patches, device names, and the demo on the server stores."""

from __future__ import annotations

import asyncio
import re
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from tests.conftest import store_url
from tests.test_demo_auth import PASSWORD, browser, flashes, login, register, signed_in_as
from websession import SessionConfig
from websession.auth import AuthConfig
from websession.demo.app import create_app, shutdown
from websession.demo.tour import safe_url
from websession.demo.useragent import device_name


async def _demo(store: str, admins: tuple[str, ...] = ()) -> Starlette:
    return create_app(
        store,
        SessionConfig.development(),
        auth_config=AuthConfig.development(max_failures_per_account=3),
        admins=admins,
    )


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[Starlette]:
    demo = await _demo(f"sqlite:///{tmp_path / 'demo-sessions.db'}")
    yield demo
    await shutdown(demo)


def plain(app: Starlette, **headers: str) -> httpx.AsyncClient:
    """A client that sends no Origin (a script, or an old browser)."""
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://testserver",
        headers={"accept": "text/html", **headers},
    )


def token(page: httpx.Response) -> str:
    found = re.search(r'name="_csrf" value="([^"]+)"', page.text)
    assert found is not None
    return found.group(1)


# -- CSRF ----------------------------------------------------------------------------


async def test_a_form_without_origin_or_token_is_refused(app: Starlette) -> None:
    response = await plain(app).post("/register", data={"username": "a", "password": PASSWORD})
    assert response.status_code == 403
    assert "The CSRF token is missing." in response.text


async def test_a_form_with_the_page_token_is_accepted(app: Starlette) -> None:
    client = plain(app)
    form = await client.get("/register")
    data = {"username": "alice", "password": PASSWORD, "_csrf": token(form)}
    response = await client.post("/register", data=data, follow_redirects=True)
    assert signed_in_as(response) == "alice"


@pytest.mark.parametrize("site", ["cross-site", "same-site"])
async def test_logout_everywhere_from_another_site_is_refused(app: Starlette, site: str) -> None:
    client = browser(app, "laptop")
    await register(client)
    response = await client.post(
        "/logout-everywhere",
        headers={"sec-fetch-site": site, "origin": "http://testserver:8001"},
    )
    assert response.status_code == 403
    assert signed_in_as(await client.get("/")) == "alice"


async def test_the_csrf_page_says_what_the_check_decided(app: Starlette) -> None:
    client = browser(app, "laptop")
    page = await client.post("/csrf/check", headers={"sec-fetch-site": "same-origin"})
    assert "allowed by the browser&#39;s headers: no token needed" in page.text
    assert "<code>same-origin</code>" in page.text


# -- every page ---------------------------------------------------------------------------

PAGES = {
    "/": "Home",
    "/session": "Your session",
    "/cart": "Cart",
    "/csrf": "CSRF protection",
    "/login": "Log in",
    "/register": "Create an account",
}


@pytest.mark.parametrize(("path", "title"), PAGES.items())
async def test_pages_are_private_titled_and_fit_phones(
    app: Starlette, path: str, title: str
) -> None:
    response = await browser(app, "laptop").get(path)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert f"<title>{title} · websession demo</title>" in response.text
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in response.text
    assert "<script>" not in response.text
    assert "style=" not in response.text


async def test_unknown_paths_get_an_html_404(app: Starlette) -> None:
    response = await browser(app, "laptop").get("/nope")
    assert response.status_code == 404
    assert "<title>Page not found · websession demo</title>" in response.text
    assert response.headers["cache-control"] == "no-store"


async def test_static_files_get_no_session(app: Starlette) -> None:
    response = await browser(app, "laptop").get("/static/demo.css")
    assert response.status_code == 200
    assert "set-cookie" not in response.headers


async def test_a_form_error_keeps_the_typed_user_name(app: Starlette) -> None:
    client = browser(app, "laptop")
    page = await client.post("/register", data={"username": "bob", "password": "short"})
    assert flashes(page) == ["The password must be at least 8 characters."]
    assert 'name="username" value="bob"' in page.text
    assert "At least 8 characters." in page.text  # the rule is on the form before any error
    again = await client.get("/register")
    assert 'name="username" value=""' in again.text  # shown once


async def test_login_shows_the_session_id_changing(app: Starlette) -> None:
    client = browser(app, "laptop")
    await client.get("/")
    before = (await client.get("/session")).text
    old = re.search(r'<code id="key">([^<]{12})…', before)
    assert old is not None
    page = await register(client)
    assert f"it was <code>{old.group(1)}</code>" in page.text
    new = re.search(r"it is now <code>([^<]+)</code>", page.text)
    assert new is not None
    assert new.group(1) != old.group(1)


# -- the cart: concurrent patches ---------------------------------------------------------


async def test_cart_requests_in_flight_together_both_survive(app: Starlette) -> None:
    client = browser(app, "laptop")
    await client.get("/cart")  # the session exists before the two requests
    await asyncio.gather(
        client.post("/cart/add", data={"item": "apples", "slow": "1"}),
        client.post("/cart/add", data={"item": "pears", "slow": "1"}),
    )
    page = await client.get("/cart")
    assert '<output id="count-apples">1</output>' in page.text
    assert '<output id="count-pears">1</output>' in page.text


async def test_cart_refuses_unknown_items(app: Starlette) -> None:
    response = await browser(app, "laptop").post("/cart/add", data={"item": "bombs"})
    assert response.status_code == 400


# -- admin ----------------------------------------------------------------------------


async def test_the_first_account_is_admin_when_none_is_named(app: Starlette) -> None:
    first, second = browser(app, "laptop"), browser(app, "phone")
    await register(first, "alice")
    await register(second, "bob")
    assert (await second.get("/admin")).status_code == 403
    page = await first.get("/admin", params={"user": "bob"})
    assert page.status_code == 200
    (device,) = re.findall(r'name="device" value="([^"]*)"', page.text)
    user_id = re.search(r'name="user_id" value="([^"]*)"', page.text)
    assert user_id is not None
    page = await first.post("/admin/revoke", data={"user_id": user_id.group(1), "device": device})
    assert flashes(page) == ["Signed out one session of bob."]
    assert signed_in_as(await second.get("/")) is None


async def test_named_admins_only(tmp_path: Path) -> None:
    demo = await _demo(f"sqlite:///{tmp_path / 's.db'}", admins=("Boss",))
    try:
        first, boss = browser(demo, "laptop"), browser(demo, "phone")
        await register(first, "alice")
        await register(boss, "boss")
        assert (await first.get("/admin")).status_code == 403
        await login(browser(demo, "tablet"), "alice")
        page = await boss.post("/admin/revoke-all", data={"user_id": "nobody"})
        assert flashes(page) == ["No such user."]
        listing = await boss.get("/admin", params={"user": "alice"})
        user_id = re.search(r'name="user_id" value="([^"]*)"', listing.text)
        assert user_id is not None
        page = await boss.post("/admin/revoke-all", data={"user_id": user_id.group(1)})
        assert flashes(page) == ["Signed out 2 sessions of alice."]
        assert "alice has no live sessions." in page.text
    finally:
        await shutdown(demo)


# -- small helpers ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("agent", "name"),
    [
        ("Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
         "Firefox on Linux"),
        ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
         "Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0", "Edge on Windows"),
        ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
         "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1", "Safari on iPhone"),
        ("Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) "
         "Chrome/126.0 Mobile Safari/537.36", "Chrome on Android"),
        ("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) "
         "Version/17.5 Safari/605.1.15", "Safari on macOS"),
        ("curl/8.5.0", "curl"),
        ("", "Unknown device"),
        (None, "Unknown device"),
    ],
)  # fmt: skip
def test_device_names(agent: str | None, name: str) -> None:
    assert device_name(agent) == name


def test_store_urls_are_shown_without_their_password() -> None:
    assert (
        safe_url("postgresql://app:s3cret@db:5432/app?x=1")
        == "postgresql://app:***@db:5432/app?x=1"
    )
    assert safe_url("sqlite:///demo.db") == "sqlite:///demo.db"


# -- on the server stores ---------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["redis", "postgres"])
async def test_the_demo_runs_on_a_server_store(kind: str, tmp_path: Path) -> None:
    demo = await _demo(store_url(kind, tmp_path))
    name = f"u{secrets.token_hex(4)}"
    try:
        laptop, phone = browser(demo, "laptop"), browser(demo, "phone")
        await register(laptop, name)
        assert signed_in_as(await login(phone, name)) == name
        page = await laptop.get("/devices")
        assert len(re.findall(r'class="device"', page.text)) == 2
        session_page = await laptop.get("/session")
        assert re.search(r'<code id="key">[^<]{12}…', session_page.text)
    finally:
        await shutdown(demo)
