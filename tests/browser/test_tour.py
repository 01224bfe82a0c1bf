"""The tour pages as a visitor clicks them: home, session, cart, CSRF, 404, phone, keyboard."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.conftest import PASSWORD, register, shot, signed_in_as


def test_home_says_what_to_try(page: Page) -> None:
    response = page.goto("/")
    assert response is not None
    assert response.headers["cache-control"] == "no-store"
    expect(page).to_have_title("Home · websession demo")
    assert page.locator('meta[name="viewport"]').get_attribute("content") == (
        "width=device-width, initial-scale=1"
    )
    expect(page.get_by_role("heading", name="Things to try")).to_be_visible()
    expect(page.locator("ol.tour li")).to_have_count(9)
    expect(page.locator("#visits")).to_have_text("1")
    page.reload()
    expect(page.locator("#visits")).to_have_text("2")
    shot(page, "home")


def test_session_page_shows_cookie_store_key_and_deadlines_counting_down(
    page: Page, name: str
) -> None:
    page.goto("/session")
    expect(page).to_have_title("Your session · websession demo")
    page.reload()  # the first visit created the session; now it is in the store
    expect(page.locator("#key")).to_have_text(re.compile(r"^[0-9A-Za-z_-]{12}…$"))
    expect(page.locator("#store")).to_contain_text("sqlite:///")
    facts = page.locator("dl.facts").first.inner_text()
    assert "HttpOnly" in facts
    assert "Lax" in facts
    idle = page.locator("#idle-left")
    first = idle.inner_text()
    assert re.fullmatch(r"(\d+ d )?\d+ h \d+ min \d+ s", first)
    expect(idle).not_to_have_text(first, timeout=5_000)  # it counts down
    expect(page.locator("#absolute-left")).to_contain_text(" d ")
    shot(page, "session")


def test_login_regenerates_the_session_id(page: Page, name: str) -> None:
    page.goto("/session")
    page.reload()
    before = page.locator("#key").inner_text().rstrip("…")
    register(page, name)
    regenerated = page.locator("#regenerated")
    expect(regenerated).to_contain_text(before)
    page.goto("/session")
    after = page.locator("#key").inner_text().rstrip("…")
    assert after != before
    expect(page.get_by_text("replaced when you logged in")).to_be_visible()
    shot(page, "session-after-login")


def test_cart_requests_in_flight_together_both_keep_their_change(
    new_context: Callable[..., BrowserContext],
) -> None:
    context = new_context()
    tab = context.new_page()
    tab.goto("/cart")
    expect(tab).to_have_title("Cart · websession demo")
    tab.get_by_role("button", name="Add both at once (two concurrent requests)").click()
    expect(tab.locator("#count-apples")).to_have_text("1")
    expect(tab.locator("#count-pears")).to_have_text("1")

    other = context.new_page()  # a second tab of the same browser: the same session
    other.goto("/cart")
    tab.get_by_role("button", name="Add one of apples").click()
    other.get_by_role("button", name="Add one of pears").click()
    tab.reload()
    expect(tab.locator("#count-apples")).to_have_text("2")
    expect(tab.locator("#count-pears")).to_have_text("2")
    shot(tab, "cart")


def test_csrf_page_explains_what_the_fetch_metadata_check_decided(page: Page) -> None:
    page.goto("/csrf")
    expect(page).to_have_title("CSRF protection · websession demo")
    page.get_by_role("button", name="Post a form without a token").click()
    check = page.locator("#check")
    expect(check).to_contain_text("same-origin")
    expect(page.locator("#verdict")).to_have_text(
        "allowed by the browser's headers: no token needed"
    )
    shot(page, "csrf")


def test_unknown_pages_get_an_html_404(page: Page) -> None:
    response = page.goto("/no/such/page")
    assert response is not None
    assert response.status == 404
    expect(page).to_have_title("Page not found · websession demo")
    expect(page.get_by_role("link", name="Go to the home page")).to_be_visible()
    shot(page, "not-found")


def test_keyboard_only_login(page: Page, name: str) -> None:
    register(page, name)
    page.get_by_role("button", name="Log out", exact=True).click()
    page.goto("/")
    page.keyboard.press("Tab")  # the first stop is the skip link
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    for _ in range(30):  # tab along the navigation to "Log in"
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent") == "Log in":
            break
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"  # focus is visible
    page.keyboard.press("Enter")
    page.wait_for_url("**/login")
    assert page.evaluate("document.activeElement.id") == "username"  # focus starts there
    page.keyboard.type(name)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "password"
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url("**/")
    assert signed_in_as(page) == name


def test_phone_viewport_has_no_sideways_scrolling(
    new_context: Callable[..., BrowserContext], name: str
) -> None:
    phone = new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
        device_scale_factor=2,
    ).new_page()  # fmt: skip
    register(phone, name)
    for path, label in [
        ("/", "phone-home"), ("/session", "phone-session"), ("/devices", "phone-devices"),
        ("/cart", "phone-cart"),
    ]:  # fmt: skip
        phone.goto(path)
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"{path} is {width} px wide"
        size = phone.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
        assert size >= 16
        shot(phone, label)
