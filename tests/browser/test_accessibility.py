"""Accessibility of every page: our own checks always, and axe-core (WCAG 2.2 A/AA and
best practices) when it is installed (``node_modules/axe-core``, which
``scripts/install_browser.sh`` installs when npm is present, or ``$WEBSESSION_TEST_AXE``).
What a screen reader is given for the devices table is saved beside the screenshots."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page

from tests.browser.conftest import FIREFOX_LINUX, SCREENSHOTS, login, register

AXE = Path(
    os.environ.get(
        "WEBSESSION_TEST_AXE",
        Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js",
    )
)
PAGES = ["/", "/session", "/cart", "/csrf", "/devices", "/password", "/no-such-page"]
ANONYMOUS_PAGES = ["/login", "/register"]

# Our own checks, run in the page: a list of problems (empty when all is well).
OWN_CHECKS = """() => {
  const problems = [];
  const name = (el) => (el.getAttribute("aria-label") || el.textContent || "").trim();
  if (document.documentElement.lang !== "en") problems.push("html has no lang");
  if (!document.querySelector('meta[name="viewport"]')) problems.push("no viewport meta");
  if (!document.title.trim()) problems.push("empty title");
  if (document.querySelectorAll("h1").length !== 1) problems.push("not exactly one h1");
  for (const input of document.querySelectorAll("input:not([type=hidden]), select, textarea")) {
    const labelled = (input.id && document.querySelector(`label[for="${input.id}"]`))
      || input.getAttribute("aria-label") || input.closest("label");
    if (!labelled) problems.push(`input ${input.name} has no label`);
  }
  for (const button of document.querySelectorAll("button")) {
    if (!name(button)) problems.push("a button has no name");
  }
  for (const th of document.querySelectorAll("th")) {
    if (!th.textContent.trim()) problems.push("an empty table header");
  }
  for (const table of document.querySelectorAll("table")) {
    const names = Array.from(table.querySelectorAll("button")).map(name);
    if (new Set(names).size !== names.length) problems.push("buttons in a table share a name");
  }
  return problems;
}"""


@pytest.fixture(scope="module")
def axe_source() -> str | None:
    """axe-core's script, if installed."""
    return AXE.read_text() if AXE.is_file() else None


@pytest.fixture
def signed_in(new_context: Callable[..., BrowserContext], name: str) -> Page:
    """A signed-in desktop page (CSP bypassed so that axe can be injected), with a
    second device signed in."""
    page = new_context(bypass_csp=True, viewport={"width": 1280, "height": 800}).new_page()
    register(page, name)
    login(new_context(user_agent=FIREFOX_LINUX).new_page(), name)
    return page


def _axe(page: Page, source: str) -> list[dict[str, Any]]:
    page.evaluate(source)
    result: dict[str, Any] = page.evaluate(
        """() => axe.run(document, {runOnly: {type: "tag", values: [
             "wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]}})"""
    )
    return [
        {"id": v["id"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]]}
        for v in result["violations"]
    ]


def _check(page: Page, paths: list[str], axe_source: str | None) -> dict[str, str]:
    titles = {}
    for path in paths:
        page.goto(path)
        assert page.evaluate(OWN_CHECKS) == [], path
        if axe_source is not None:
            assert _axe(page, axe_source) == [], path
        titles[path] = page.title()
    return titles


def test_every_page_passes_the_checks(
    signed_in: Page, new_context: Callable[..., BrowserContext], axe_source: str | None
) -> None:
    titles = _check(signed_in, PAGES, axe_source)
    anonymous = new_context(bypass_csp=True).new_page()
    titles |= _check(anonymous, ANONYMOUS_PAGES, axe_source)
    assert len(set(titles.values())) == len(titles)  # a title per page
    if axe_source is None:
        pytest.skip(f"own checks passed; axe-core not found at {AXE} (npm install axe-core)")


def test_what_a_screen_reader_gets_for_the_devices_table(signed_in: Page, name: str) -> None:
    signed_in.goto("/devices")
    table = signed_in.get_by_role("table", name=f"Devices signed in as {name}")
    snapshot = table.aria_snapshot()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    (SCREENSHOTS.parent / "devices-table.aria.yaml").write_text(snapshot + "\n")
    assert 'columnheader "Action"' in snapshot
    assert "Firefox on Linux" in snapshot
    assert 'button "Sign out Firefox on Linux, signed in ' in snapshot
