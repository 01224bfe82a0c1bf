"""Devices and the admin view, with a second browser context as a second device."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import BrowserContext, expect

from tests.browser.conftest import (
    ADMIN,
    FIREFOX_LINUX,
    SAFARI_IPHONE,
    login,
    register,
    shot,
    signed_in_as,
)


def test_devices_sign_out_one_others_and_all(
    new_context: Callable[..., BrowserContext], name: str
) -> None:
    laptop = new_context().new_page()
    firefox = new_context(user_agent=FIREFOX_LINUX).new_page()
    iphone = new_context(user_agent=SAFARI_IPHONE).new_page()
    register(laptop, name)
    login(firefox, name)
    login(iphone, name)

    laptop.get_by_role("link", name="Devices", exact=True).click()
    expect(laptop).to_have_title("Your devices · websession demo")
    table = laptop.get_by_role("table", name=f"Devices signed in as {name}")
    expect(table.get_by_role("row")).to_have_count(4)  # the header and three devices
    expect(table.get_by_role("rowheader").first).to_contain_text("Headless Chrome on Linux")
    expect(table).to_contain_text("this device")
    expect(table).to_contain_text("Firefox on Linux")
    expect(table).to_contain_text("Safari on iPhone")
    shot(laptop, "devices")

    laptop.get_by_role("button", name=re.compile(r"^Sign out Firefox on Linux, signed in ")).click()
    expect(laptop.locator(".flash")).to_have_text("That device has been signed out.")
    firefox.goto("/devices")  # the replayed cookie is told why it no longer works
    expect(firefox.get_by_role("alert")).to_have_text(
        "This session was signed out. Please log in again."
    )
    assert signed_in_as(firefox) is None

    login(firefox, name)
    laptop.get_by_role("button", name="Sign out all other devices").click()
    expect(laptop.locator(".flash")).to_have_text("Signed out 2 other devices.")
    for other in (firefox, iphone):
        other.reload()
        assert signed_in_as(other) is None

    login(iphone, name)
    laptop.get_by_role("button", name="Sign out everywhere, this device too").click()
    expect(laptop.locator(".flash")).to_have_text(
        "You have been logged out everywhere (2 sessions)."
    )
    assert signed_in_as(laptop) is None
    iphone.reload()
    assert signed_in_as(iphone) is None


def test_admin_lists_and_revokes_a_users_sessions(
    new_context: Callable[..., BrowserContext], name: str
) -> None:
    user = new_context(user_agent=FIREFOX_LINUX).new_page()
    register(user, name)
    nosy = new_context().new_page()
    register(nosy, f"{name}x")
    response = nosy.goto("/admin")
    assert response is not None
    assert response.status == 403
    expect(nosy).to_have_title("Admins only · websession demo")

    admin = new_context().new_page()
    register(admin, ADMIN)  # the one test that uses the admin's name
    admin.get_by_role("link", name="Admin", exact=True).click()
    expect(admin).to_have_title("Admin: sessions by user · websession demo")
    admin.get_by_label("User name").fill(name)
    admin.get_by_role("button", name="Show sessions").click()
    table = admin.get_by_role("table", name=f"Sessions of {name}")
    expect(table).to_contain_text("Firefox on Linux")
    shot(admin, "admin")
    admin.get_by_role("button", name=re.compile(r"^Sign out Firefox on Linux")).click()
    expect(admin.locator(".flash")).to_have_text(f"Signed out one session of {name}.")
    expect(admin.locator("#no-sessions")).to_have_text(f"{name} has no live sessions.")
    user.reload()
    assert signed_in_as(user) is None
