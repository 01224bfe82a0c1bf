"""Cross-site attacks from another local server are refused by the demo's CSRF check:
login CSRF from another site, and "log out everywhere" from another port of this host."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import BrowserContext, expect

from tests.browser.conftest import PASSWORD, register, shot, signed_in_as


def _autosubmit(action: str, fields: dict[str, str]) -> str:
    inputs = "".join(f'<input type="hidden" name="{k}" value="{v}">' for k, v in fields.items())
    return (
        f'<!doctype html><title>Win a prize</title><form id="f" method="post" action="{action}">'
        f"{inputs}</form><script>document.getElementById('f').submit()</script>"
    )


def test_login_csrf_from_another_site_is_refused(
    new_context: Callable[..., BrowserContext],
    attacker: tuple[int, dict[str, str]],
    demo_url: str,
    name: str,
) -> None:
    register(new_context().new_page(), name)  # the attacker's own account
    port, pages = attacker
    pages["/login-csrf"] = _autosubmit(
        f"{demo_url}/login", {"username": name, "password": PASSWORD}
    )
    victim = new_context().new_page()
    victim.goto(demo_url + "/")
    with victim.expect_navigation(url=f"{demo_url}/login"):
        victim.goto(f"http://localhost:{port}/login-csrf")  # another site
    expect(victim.locator("h1")).to_have_text("Forbidden")
    expect(victim.locator("body")).to_contain_text("Cross-site requests are not allowed here.")
    shot(victim, "csrf-login-refused")
    victim.goto(demo_url + "/")
    assert signed_in_as(victim) is None  # not logged in as the attacker


def test_log_out_everywhere_from_another_port_is_refused(
    new_context: Callable[..., BrowserContext],
    attacker: tuple[int, dict[str, str]],
    demo_url: str,
    name: str,
) -> None:
    victim = new_context().new_page()
    register(victim, name)
    port, pages = attacker
    pages["/logout"] = _autosubmit(f"{demo_url}/logout-everywhere", {})
    with victim.expect_navigation(url=f"{demo_url}/logout-everywhere"):
        victim.goto(f"http://127.0.0.1:{port}/logout")  # same host, another port
    expect(victim.locator("h1")).to_have_text("Forbidden")
    shot(victim, "csrf-logout-refused")
    victim.goto(demo_url + "/")
    assert signed_in_as(victim) == name  # still signed in
