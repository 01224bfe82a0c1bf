"""The demo under two worker processes sharing one server store, with no sticky routing.

A session created through one worker is read, changed, logged in, listed and destroyed
through the other, on Redis and on PostgreSQL (sessions and, for PostgreSQL, users).
"""

from __future__ import annotations

import re
import secrets
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import store_url
from tests.test_demo_command import clean_env, start_demo


def start_worker(store: str, secret: str, folder: Path) -> tuple[str, subprocess.Popen[Any]]:
    env = clean_env()
    env["WEBSESSION_SECRET"] = secret
    env["WEBSESSION_SECURE"] = "false"
    env["WEBSESSION_USERS"] = users_url(store, folder)
    return start_demo(store, env, cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def users_url(store: str, folder: Path) -> str:
    """Users shared by both workers: in PostgreSQL beside the sessions, else one SQLite file."""
    if store.startswith("postgresql://"):
        base, _, query = store.partition("?")
        return f"{base}?{query.replace('table=', 'table=users_')}"
    return f"sqlite:///{folder / 'users.db'}"


@pytest.fixture(params=["redis", "postgres"])
def workers(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    store = store_url(request.param, tmp_path)
    secret = secrets.token_urlsafe(32)
    first, one = start_worker(store, secret, tmp_path)
    try:
        second, two = start_worker(store, secret, tmp_path)
    except BaseException:
        one.kill()
        raise
    yield first, second
    for process in (one, two):
        process.terminate()
        process.wait(timeout=10)


def browser() -> httpx.Client:
    """A client that posts forms as a browser does on the page's own site: with the
    ``Origin`` of the worker it posts to (the demo checks CSRF)."""

    def same_site(request: httpx.Request) -> None:
        if request.method == "POST":
            request.headers["origin"] = f"{request.url.scheme}://{request.url.netloc.decode()}"

    return httpx.Client(event_hooks={"request": [same_site]})


def visits(response: httpx.Response) -> int:
    assert response.status_code == 200, response.text
    found = re.search(r'id="visits">(\d+)<', response.text)
    assert found is not None, response.text
    return int(found.group(1))


def user_shown(response: httpx.Response) -> str | None:
    found = re.search(r'id="user">([^<]+)<', response.text)
    return None if found is None else found.group(1)


def test_a_session_moves_freely_between_workers(workers: tuple[str, str]) -> None:
    first, second = workers
    with browser() as client:
        assert visits(client.get(f"{first}/")) == 1  # created through the first worker
        assert visits(client.get(f"{second}/")) == 2  # read and changed through the second
        assert visits(client.get(f"{first}/")) == 3
        logout = client.post(f"{second}/logout", follow_redirects=False)
        assert logout.status_code in (302, 303)
        assert visits(client.get(f"{first}/")) == 1  # destroyed: a fresh session


def test_a_login_through_one_worker_holds_on_the_other_until_logout(
    workers: tuple[str, str],
) -> None:
    first, second = workers
    credentials = {"username": "ada", "password": "correct horse battery staple"}
    with browser() as client, browser() as other_device:
        client.get(f"{first}/")
        registered = client.post(f"{first}/register", data=credentials)
        assert (registered.status_code, registered.headers["location"]) == (303, "/")
        assert user_shown(client.get(f"{second}/")) == "ada"
        assert other_device.post(f"{second}/login", data=credentials).status_code == 303
        assert user_shown(other_device.get(f"{first}/")) == "ada"

        devices = client.get(f"{second}/devices")
        assert devices.status_code == 200
        assert devices.text.count("<tr") - 1 == 2  # both devices, a header row

        assert client.post(f"{first}/logout-everywhere").status_code == 303
        assert user_shown(client.get(f"{second}/")) is None
        assert user_shown(other_device.get(f"{second}/")) is None  # revoked on every worker
