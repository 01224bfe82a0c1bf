"""Zero-downtime move between stores: a browser logs in on store A, the app switches to
``dual://`` (new B, old A) while ``websession migrate`` copies A to B and requests keep
coming, then the app runs on B alone, and the same cookies are still logged in with
their data intact; a logout during the move stays a logout."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from tests.conftest import store_url
from websession import SessionConfig
from websession.cli.main import main
from websession.demo.app import create_app, shutdown
from websession.stores import open_store
from websession.stores.dual import dual_url
from websession.testing import make_record, new_key

PASSWORD = "correct horse battery"
CONFIG = SessionConfig.development()
MOVES = [("sqlite", "postgres"), ("sqlite", "redis"), ("file", "sqlite")]


def browser(app: Starlette, cookies: httpx.Cookies | None = None) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://testserver",
        follow_redirects=True,
        headers={"accept": "text/html", "origin": "http://testserver"},  # a same-site form
        cookies=cookies,
    )


def signed_in_as(page: httpx.Response) -> str | None:
    found = re.search(r'id="user">([^<]*)<', page.text)
    return found.group(1) if found else None


def visits(page: httpx.Response) -> int:
    found = re.search(r'id="visits">(\d+)<', page.text)
    assert found, page.text
    return int(found.group(1))


@pytest.mark.parametrize(("old", "new"), MOVES, ids=[f"{a}-to-{b}" for a, b in MOVES])
async def test_the_same_cookie_stays_logged_in_across_a_live_move(
    old: str, new: str, tmp_path: Path
) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    url_a, url_b = store_url(old, tmp_path / "a"), store_url(new, tmp_path / "b")
    users = f"sqlite:///{tmp_path / 'users.db'}"
    state = str(tmp_path / "migrate.json")

    # 1. on store A: alice logs in; an anonymous visitor counts visits; bob logs in
    app = create_app(url_a, CONFIG, users=users)
    alice, anon, bob = browser(app), browser(app), browser(app)
    await alice.post("/register", data={"username": "alice", "password": PASSWORD})
    await bob.post("/register", data={"username": "bob", "password": PASSWORD})
    for _ in range(3):
        assert signed_in_as(await alice.get("/")) == "alice"
        await anon.get("/")
    alice_visits = visits(await alice.get("/"))
    anon_visits = visits(await anon.get("/"))
    jars = [alice.cookies, anon.cookies, bob.cookies]
    for client in (alice, anon, bob):
        await client.aclose()
    await shutdown(app)
    filler = open_store(url_a)  # other people's sessions, so the copy takes a while
    for i in range(300):
        filler.create(new_key(), make_record({"i": i}))
    filler.close()

    # 2. on dual (B, then A) while the copy runs: requests keep coming; bob logs out
    app = create_app(dual_url(url_b, url_a), CONFIG, users=users)
    alice, anon, bob = (browser(app, jar) for jar in jars)
    migration = asyncio.create_task(
        asyncio.to_thread(
            main, ["migrate", "--from", url_a, "--to", url_b, "--batch", "2", "--state", state]
        )
    )
    while not migration.done():
        assert signed_in_as(await alice.get("/")) == "alice"
        alice_visits += 1
        await anon.get("/")
        anon_visits += 1
        await asyncio.sleep(0)
    assert await migration == 0
    assert signed_in_as(await alice.get("/")) == "alice"
    alice_visits += 1
    await bob.post("/logout")
    assert signed_in_as(await bob.get("/")) is None
    jars = [alice.cookies, anon.cookies, bob.cookies]
    for client in (alice, anon, bob):
        await client.aclose()
    await shutdown(app)

    # 3. on store B alone: the same cookies, the same sessions, the logout holds
    app = create_app(url_b, CONFIG, users=users)
    alice, anon, bob = (browser(app, jar) for jar in jars)
    page = await alice.get("/")
    assert signed_in_as(page) == "alice"
    assert visits(page) == alice_visits + 1
    assert visits(await anon.get("/")) == anon_visits + 1
    assert signed_in_as(await bob.get("/")) is None
    for client in (alice, anon, bob):
        await client.aclose()
    await shutdown(app)
