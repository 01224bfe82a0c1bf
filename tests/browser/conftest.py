"""Browser tests: Debian's Chromium, driven by Playwright, against the demo served by
a real uvicorn process (``websession demo``), plus an "attacker" site on another port.

Chromium is found at ``$WEBSESSION_TEST_CHROMIUM`` or ``/usr/bin/chromium``
(``scripts/install_browser.sh`` installs it; ``make test`` runs that). Locally a
missing browser or Playwright skips with the reason; under CI (``CI=true``) it fails.
Screenshots of every page go to ``tests/artifacts/screenshots/`` (git-ignored).

Playwright, the browser and the servers live for this package only: Playwright's sync
API keeps an event loop on the main thread while it runs, which code that refuses to
run inside an event loop (Django's ORM) must not see in the tests that follow.
"""

from __future__ import annotations

import importlib.util
import os
import secrets
import subprocess
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from scripts.servers import free_port
from tests.test_demo_command import clean_env, start_demo

if importlib.util.find_spec("playwright") is None and os.environ.get("CI", "") == "":
    # Playwright is a test extra: without it these tests are not collected locally
    # (pip install -e '.[test]'); under CI the import below fails the run.
    collect_ignore_glob = ["test_*.py"]

from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

CHROMIUM = os.environ.get("WEBSESSION_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parent.parent / "artifacts" / "screenshots"
PASSWORD = "correct horse battery"
ADMIN = "boss"
FIREFOX_LINUX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)


def _under_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _unavailable(reason: str) -> None:
    if _under_ci():
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    """Playwright, or skip (fail under CI) if it or Chromium is missing."""
    if not os.access(CHROMIUM, os.X_OK):
        _unavailable(f"no Chromium at {CHROMIUM}: run scripts/install_browser.sh")
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="package")
def chromium(playwright: Playwright) -> Iterator[Browser]:
    """One headless Chromium for the whole run."""
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture(scope="package")
def demo_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The demo served by ``websession demo`` on a free port, fresh SQLite stores, and
    ``WEBSESSION_DEMO_ADMIN=boss``."""
    folder = tmp_path_factory.mktemp("demo")
    env = {**clean_env(), "WEBSESSION_DEMO_ADMIN": ADMIN}
    with (folder / "server.log").open("w") as log:
        base, process = start_demo(
            f"sqlite:///{folder / 'demo-sessions.db'}",
            env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        yield base
        process.terminate()
        process.wait(timeout=10)


class _Attacker(BaseHTTPRequestHandler):
    pages: ClassVar[dict[str, str]] = {}

    def do_GET(self) -> None:
        body = self.pages.get(self.path, "<p>nothing here</p>").encode()
        self.send_response(200 if self.path in self.pages else 404)
        self.send_header("content-type", "text/html; charset=utf-8")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture(scope="package")
def attacker() -> Iterator[tuple[int, dict[str, str]]]:
    """Another site on another port: its port, and the pages it serves (path -> HTML)."""
    pages: dict[str, str] = {}
    handler = type("Attacker", (_Attacker,), {"pages": pages})
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], pages
    server.shutdown()
    server.server_close()


@pytest.fixture
def new_context(chromium: Browser, demo_url: str) -> Iterator[Callable[..., BrowserContext]]:
    """Make browser contexts (each a separate device with its own cookies)."""
    made: list[BrowserContext] = []

    def make(**options: Any) -> BrowserContext:
        options.setdefault("base_url", demo_url)
        context = chromium.new_context(**options)
        context.set_default_timeout(10_000)
        made.append(context)
        return context

    yield make
    for context in made:
        context.close()


@pytest.fixture
def page(new_context: Callable[..., BrowserContext]) -> Page:
    """A page in a fresh desktop browser."""
    return new_context(viewport={"width": 1280, "height": 800}).new_page()


@pytest.fixture
def name() -> str:
    """A fresh user name."""
    return f"user{secrets.token_hex(4)}"


def shot(page: Page, label: str) -> Path:
    """Save a full-page screenshot as ``tests/artifacts/screenshots/<label>.png``."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{label}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def register(page: Page, name: str, password: str = PASSWORD) -> None:
    """Create an account through the form (and be logged in)."""
    page.goto("/register")
    page.get_by_label("User name").fill(name)
    page.get_by_label("Password", exact=True).fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Create account").click()


def login(page: Page, name: str, password: str = PASSWORD) -> None:
    """Log in through the form."""
    page.goto("/login")
    page.get_by_label("User name").fill(name)
    page.get_by_label("Password", exact=True).fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Log in", exact=True).click()


def signed_in_as(page: Page) -> str | None:
    """The user name the page header shows, if any."""
    user = page.locator("#user")
    return user.inner_text() if user.count() else None
