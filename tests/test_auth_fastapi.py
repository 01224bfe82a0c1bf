"""The FastAPI dependencies, and that FastAPI and Starlette stay optional.

No ``from __future__ import annotations`` here: FastAPI reads the annotations of the
routes defined inside the fixture at run time.
"""

import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import httpx
import pytest
from fastapi import Depends, FastAPI, Request

from websession import SessionConfig, SessionMiddleware, get_session, open_async_store
from websession.auth import AsyncAuth, AuthConfig, User
from websession.auth.fastapi import FastAPIAuth
from websession.testing import FakeClock

PASSWORD = "correct horse battery"
CONFIG = SessionConfig(
    secret="f" * 32,
    secure=False,
    idle_timeout=timedelta(minutes=30),
    absolute_timeout=timedelta(hours=2),
)
JSON = {"accept": "application/json"}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def auth(clock: FakeClock, tmp_path: Path) -> AsyncIterator[AsyncAuth]:
    service = AsyncAuth(
        open_async_store("memory://"),
        f"sqlite:///{tmp_path / 'users.db'}",
        session_config=CONFIG,
        config=AuthConfig.development(),
        clock=clock,
    )
    await service.register_user("alice", PASSWORD)
    yield service
    await service.close()


@pytest.fixture
def client(auth: AsyncAuth, clock: FakeClock) -> httpx.AsyncClient:
    app = FastAPI()
    users = FastAPIAuth(auth, app)

    @app.post("/login")
    async def login(request: Request) -> dict[str, str]:
        body = await request.json()
        user = await users.web.login(request, body["username"], body["password"])
        return {"user": user.username}

    @app.get("/me")
    async def me(user: Annotated[User, Depends(users.require_user)]) -> dict[str, str]:
        return {"user": user.username}

    @app.get("/maybe")
    async def maybe(user: Annotated[User | None, Depends(users.current_user)]) -> dict[str, str]:
        return {"user": user.username if user is not None else ""}

    @app.post("/delete-account")
    async def delete_account(
        user: Annotated[User, Depends(users.require_recent_auth(timedelta(minutes=5)))],
    ) -> dict[str, str]:
        return {"deleted": user.username}

    @app.get("/login-page")
    async def login_page(request: Request) -> dict[str, list[tuple[str, str]]]:
        return {"flashes": get_session(request).pop_flashes()}

    app.add_middleware(SessionMiddleware, store=auth.sessions, config=CONFIG, clock=clock)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


async def log_in(client: httpx.AsyncClient) -> None:
    response = await client.post("/login", json={"username": "alice", "password": PASSWORD})
    assert response.json() == {"user": "alice"}


async def test_require_user_gives_the_signed_in_user(client: httpx.AsyncClient) -> None:
    await log_in(client)
    response = await client.get("/me")
    assert response.status_code == 200
    assert response.json() == {"user": "alice"}


async def test_require_user_answers_401_json(client: httpx.AsyncClient) -> None:
    response = await client.get("/me", headers=JSON)
    assert response.status_code == 401
    assert response.json() == {
        "error": {"code": "authentication_required", "message": "Please log in to continue."}
    }


async def test_require_user_redirects_a_browser_with_a_flash(client: httpx.AsyncClient) -> None:
    response = await client.get("/me", headers={"accept": "text/html"})
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/me"
    page = await client.get("/login-page")
    assert page.json() == {"flashes": [["error", "Please log in to continue."]]}


async def test_require_user_tells_a_revoked_session_apart(
    client: httpx.AsyncClient, auth: AsyncAuth
) -> None:
    await log_in(client)
    await auth.logout(client.cookies["session"])
    response = await client.get("/me", headers=JSON)
    assert response.json()["error"]["code"] == "session_revoked"


async def test_current_user_is_none_for_anonymous_clients(client: httpx.AsyncClient) -> None:
    assert (await client.get("/maybe")).json() == {"user": ""}
    await log_in(client)
    assert (await client.get("/maybe")).json() == {"user": "alice"}


async def test_require_recent_auth_dependency(client: httpx.AsyncClient, clock: FakeClock) -> None:
    await log_in(client)
    assert (await client.post("/delete-account")).json() == {"deleted": "alice"}
    clock.advance(timedelta(minutes=6))
    response = await client.post("/delete-account", headers=JSON)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "reauthentication_required"


async def test_a_store_failure_answers_503(client: httpx.AsyncClient, auth: AsyncAuth) -> None:
    await log_in(client)
    await auth.users.close()  # the SQLite user store is gone from under the app
    response = await client.get("/me", headers=JSON)
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "store_error"


def test_websession_auth_imports_no_web_framework() -> None:
    code = (
        "import sys, websession, websession.auth; "
        "print(sorted(m for m in ('fastapi', 'starlette', 'flask') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_websession_imports_no_password_hasher() -> None:
    code = "import sys, websession; print('argon2' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


async def test_a_signed_in_users_page_is_not_stored_by_the_browser(
    client: httpx.AsyncClient,
) -> None:
    """Issue 10: private pages must not survive logout in the browser's cache."""
    await log_in(client)
    response = await client.get("/me")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
