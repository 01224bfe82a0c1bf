"""Accounts as a visitor clicks them: register, form errors, throttling, password
change, and the back button after logout."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.conftest import PASSWORD, login, register, shot, signed_in_as


def test_register_shows_the_password_minimum_up_front(page: Page, name: str) -> None:
    page.goto("/register")
    expect(page).to_have_title("Create an account · websession demo")
    expect(page.locator("#password-hint")).to_have_text("At least 8 characters.")
    shot(page, "register")
    register(page, name)
    assert signed_in_as(page) == name
    expect(page.locator(".flash")).to_have_text(f"Welcome, {name}! Your account is ready.")


def test_a_form_error_keeps_the_typed_user_name(
    new_context: Callable[..., BrowserContext], name: str
) -> None:
    register(new_context().new_page(), name)
    page = new_context().new_page()
    page.goto("/register")
    page.get_by_label("User name").fill(name)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("alert")).to_have_text("That username is already taken.")
    expect(page.get_by_label("User name")).to_have_value(name)
    shot(page, "register-error")

    page.goto("/login")
    page.get_by_label("User name").fill(name)
    page.get_by_label("Password", exact=True).fill("wrong password")
    page.get_by_role("button", name="Log in", exact=True).click()
    expect(page.get_by_role("alert")).to_have_text("The username or password is incorrect.")
    expect(page.get_by_label("User name")).to_have_value(name)
    expect(page.get_by_label("Password", exact=True)).to_be_focused()
    shot(page, "login-error")


def test_wrong_passwords_are_throttled(
    new_context: Callable[..., BrowserContext], name: str
) -> None:
    register(new_context().new_page(), name)
    page = new_context().new_page()
    for _ in range(12):  # 5 in one window of the clock: failures straddling two count apart
        login(page, name, "wrong password")
        if "Too many failed attempts" in page.locator(".flash").inner_text():
            break
    login(page, name)  # even the right password waits now
    expect(page.get_by_role("alert")).to_have_text(
        re.compile(r"^Too many failed attempts\. Try again in ")
    )
    assert signed_in_as(page) is None
    shot(page, "login-throttled")


def test_password_change_signs_out_the_other_device(
    new_context: Callable[..., BrowserContext], name: str
) -> None:
    laptop, phone = new_context().new_page(), new_context().new_page()
    register(laptop, name)
    login(phone, name)
    laptop.get_by_role("link", name="Password", exact=True).click()
    expect(laptop).to_have_title("Change password · websession demo")
    expect(laptop.locator("#new-hint")).to_have_text("At least 8 characters.")
    shot(laptop, "password")
    laptop.get_by_label("Current password").fill(PASSWORD)
    laptop.get_by_label("New password").fill("an even better password")
    laptop.get_by_role("button", name="Change password").click()
    expect(laptop.locator(".flash")).to_have_text(
        "Your password was changed; 1 other session was signed out."
    )
    assert signed_in_as(laptop) == name
    phone.reload()
    assert signed_in_as(phone) is None
    login(phone, name, "an even better password")
    assert signed_in_as(phone) == name


def test_back_button_after_logout_shows_nothing_private(page: Page, name: str) -> None:
    register(page, name)
    page.goto("/devices")
    expect(page.locator("tr.device")).to_have_count(1)
    page.get_by_role("button", name="Log out", exact=True).click()
    expect(page.locator(".flash")).to_have_text("You have been logged out.")
    page.go_back()
    page.wait_for_load_state()
    assert "/login" in page.url  # asked the server again: no cached copy
    body = page.locator("body").inner_text()
    assert name not in body
    assert "127.0.0.1" not in body
    shot(page, "back-after-logout")
