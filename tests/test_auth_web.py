"""The Starlette helpers: current user, login_required, require_recent_auth, answers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from websession import SessionConfig, SessionMiddleware, get_session, open_async_store
from websession.auth import AsyncAuth, AuthConfig, AuthError, User
from websession.auth.users import AsyncUserStore
from websession.auth.userstores import open_async_user_store
from websession.auth.web import WebAuth, safe_next, wants_html
from websession.testing import FakeClock

PASSWORD = "correct horse battery"
CONFIG = SessionConfig(
    secret="w" * 32,
    secure=False,
    idle_timeout=timedelta(minutes=30),
    absolute_timeout=timedelta(hours=2),
)
JSON = {"accept": "application/json"}
HTML = {"accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


class CountingUsers:
    """A real user store that counts ``get`` calls."""

    def __init__(self, inner: AsyncUserStore) -> None:
        self.inner = inner
        self.gets = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def get(self, user_id: str) -> User | None:
        self.gets += 1
        return await self.inner.get(user_id)


def build(auth: AsyncAuth, clock: FakeClock) -> Starlette:
    web = WebAuth(auth)

    async def login(request: Request) -> Response:
        body = await request.json()
        try:
            user = await web.login(request, body["username"], body["password"])
        except AuthError as exc:
            return web.error_response(request, exc)
        return JSONResponse({"user": user.username})

    @web.login_required
    async def me(request: Request) -> Response:
        first = await web.current_user(request)
        second = await web.current_user(request)
        assert first is not None
        assert first is second is request.state.user
        return JSONResponse({"user": first.username})

    @web.login_required
    async def logout_me(request: Request) -> Response:
        return JSONResponse({})

    @web.require_recent_auth(timedelta(minutes=5))
    async def sensitive(request: Request) -> Response:
        return JSONResponse({"ok": True})

    async def logout(request: Request) -> Response:
        revoked = await web.logout(request, everywhere=request.query_params.get("all") == "1")
        return JSONResponse({"revoked": revoked})

    async def remember(request: Request) -> Response:
        request.session["visited"] = True
        return JSONResponse({})

    async def login_page(request: Request) -> Response:
        return JSONResponse({"flashes": get_session(request).pop_flashes()})

    app = Starlette(
        routes=[
            Route("/api/login", login, methods=["POST"]),
            Route("/me", me),
            Route("/logout-me", logout_me, methods=["POST"]),
            Route("/sensitive", sensitive),
            Route("/logout", logout, methods=["POST"]),
            Route("/remember", remember),
            Route("/login", login_page),
        ]
    )
    app.add_middleware(SessionMiddleware, store=auth.sessions, config=CONFIG, clock=clock)
    return app


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def auth(clock: FakeClock, tmp_path: Path) -> AsyncIterator[AsyncAuth]:
    service = AsyncAuth(
        open_async_store("memory://"),
        CountingUsers(open_async_user_store(f"sqlite:///{tmp_path / 'users.db'}")),
        session_config=CONFIG,
        config=AuthConfig.development(max_failures_per_account=2),
        clock=clock,
    )
    await service.register_user("alice", PASSWORD)
    yield service
    await service.close()
    await service.users.close()


@pytest.fixture
def client(auth: AsyncAuth, clock: FakeClock) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=build(auth, clock)), base_url="http://testserver"
    )


async def log_in(client: httpx.AsyncClient, **headers: str) -> None:
    response = await client.post(
        "/api/login", json={"username": "alice", "password": PASSWORD}, headers=headers
    )
    assert response.json() == {"user": "alice"}


def error_code(response: httpx.Response) -> str:
    code: str = response.json()["error"]["code"]
    return code


# -- login_required ------------------------------------------------------------------


async def test_login_required_lets_a_signed_in_user_through(
    client: httpx.AsyncClient, auth: AsyncAuth
) -> None:
    await log_in(client)
    users = auth.users
    assert isinstance(users, CountingUsers)
    users.gets = 0
    response = await client.get("/me", headers=JSON)
    assert response.status_code == 200
    assert response.json() == {"user": "alice"}
    assert users.gets == 1  # loaded once per request, however often it is asked for


async def test_login_required_answers_401_json_without_a_session(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/me", headers=JSON)
    assert response.status_code == 401
    assert response.json() == {
        "error": {"code": "authentication_required", "message": "Please log in to continue."}
    }
    assert response.headers["cache-control"] == "no-store"
    assert "set-cookie" not in response.headers


async def test_clients_that_do_not_ask_for_html_get_json(client: httpx.AsyncClient) -> None:
    response = await client.get("/me")  # httpx sends Accept: */*
    assert response.status_code == 401
    assert error_code(response) == "authentication_required"


async def test_login_required_redirects_html_clients_with_a_flash(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/me?tab=1", headers=HTML)
    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith("/login?next=")
    assert unquote(location.split("next=", 1)[1]) == "/me?tab=1"
    page = await client.get(location)
    assert page.json() == {"flashes": [["error", "Please log in to continue."]]}


async def test_a_refused_post_sends_a_browser_to_log_in_without_next(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/logout-me", headers=HTML)
    assert response.status_code == 303
    assert response.headers["location"] == "/login"


async def test_an_anonymous_session_is_authentication_required(
    client: httpx.AsyncClient,
) -> None:
    await client.get("/remember")
    response = await client.get("/me", headers=JSON)
    assert error_code(response) == "authentication_required"


async def test_an_expired_cookie_is_reported_as_session_expired(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    await log_in(client)
    clock.advance(timedelta(minutes=31))
    response = await client.get("/me", headers=JSON)
    assert response.status_code == 401
    assert error_code(response) == "session_expired"


async def test_a_revoked_cookie_is_reported_as_session_revoked(
    client: httpx.AsyncClient, auth: AsyncAuth
) -> None:
    await log_in(client)
    cookie = client.cookies["session"]
    assert await auth.logout(cookie) == 1
    response = await client.get("/me", headers=JSON)
    assert error_code(response) == "session_revoked"


async def test_a_revoked_cookie_sends_a_browser_to_log_in_again(
    client: httpx.AsyncClient, auth: AsyncAuth
) -> None:
    await log_in(client)
    await auth.logout(client.cookies["session"])
    response = await client.get("/me", headers=HTML)
    assert response.status_code == 303
    page = await client.get(response.headers["location"])
    assert page.json()["flashes"] == [
        ["error", "This session was signed out. Please log in again."]
    ]


async def test_a_forged_cookie_is_reported_as_invalid_session(
    client: httpx.AsyncClient,
) -> None:
    client.cookies.set("session", "A" * 43 + "." + "B" * 43)
    response = await client.get("/me", headers=JSON)
    assert error_code(response) == "invalid_session"


async def test_a_deleted_user_loses_access_at_once(
    client: httpx.AsyncClient, auth: AsyncAuth
) -> None:
    await log_in(client)
    user = await auth.users.find("alice")
    assert user is not None
    await auth.users.delete(user.id)
    response = await client.get("/me", headers=JSON)
    assert response.status_code == 401
    assert error_code(response) == "invalid_session"


# -- require_recent_auth -------------------------------------------------------------


async def test_require_recent_auth_lets_a_fresh_login_through(client: httpx.AsyncClient) -> None:
    await log_in(client)
    response = await client.get("/sensitive", headers=JSON)
    assert response.json() == {"ok": True}


async def test_require_recent_auth_refuses_an_old_login(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    await log_in(client)
    clock.advance(timedelta(minutes=6))
    response = await client.get("/sensitive", headers=JSON)
    assert response.status_code == 401
    assert error_code(response) == "reauthentication_required"
    assert (await client.get("/me", headers=JSON)).status_code == 200  # still signed in


async def test_require_recent_auth_sends_a_browser_to_log_in_again(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    await log_in(client)
    clock.advance(timedelta(minutes=6))
    response = await client.get("/sensitive", headers=HTML)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/sensitive"


async def test_require_recent_auth_refuses_anonymous_clients(client: httpx.AsyncClient) -> None:
    response = await client.get("/sensitive", headers=JSON)
    assert error_code(response) == "authentication_required"


async def test_logging_in_again_makes_the_login_recent(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    await log_in(client)
    clock.advance(timedelta(minutes=6))
    await log_in(client)
    assert (await client.get("/sensitive", headers=JSON)).status_code == 200


# -- login and logout through the helpers --------------------------------------------


async def test_login_records_the_client_address_and_user_agent(
    client: httpx.AsyncClient, auth: AsyncAuth
) -> None:
    await log_in(client, **{"user-agent": "TestBrowser/2"})
    found = await auth.authenticate_session(client.cookies["session"])
    assert found.device.ip == "127.0.0.1"
    assert found.device.user_agent == "TestBrowser/2"


async def test_logout_helper_revokes_and_drops_the_cookie(
    client: httpx.AsyncClient, auth: AsyncAuth
) -> None:
    await log_in(client)
    cookie = client.cookies["session"]
    response = await client.post("/logout")
    assert response.json() == {"revoked": 1}
    assert "session" not in client.cookies
    client.cookies.set("session", cookie)
    assert error_code(await client.get("/me", headers=JSON)) == "session_revoked"


async def test_too_many_attempts_answer_429_with_retry_after(client: httpx.AsyncClient) -> None:
    for _ in range(2):
        response = await client.post("/api/login", json={"username": "alice", "password": "nope"})
        assert response.status_code == 401
        assert error_code(response) == "invalid_credentials"
    response = await client.post("/api/login", json={"username": "alice", "password": PASSWORD})
    assert response.status_code == 429
    body = response.json()["error"]
    assert body["code"] == "too_many_attempts"
    assert response.headers["retry-after"] == str(body["retry_after"])


async def test_a_store_failure_answers_503_json(client: httpx.AsyncClient, auth: AsyncAuth) -> None:
    await log_in(client)
    await auth.users.close()  # the SQLite user store is gone from under the app
    response = await client.get("/me", headers=JSON)
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    assert error_code(response) == "store_error"
    assert "SQLite" not in response.text


async def test_a_store_failure_answers_a_browser_with_a_plain_page(
    client: httpx.AsyncClient, auth: AsyncAuth
) -> None:
    await log_in(client)
    await auth.users.close()
    response = await client.get("/me", headers=HTML)
    assert response.status_code == 503
    assert response.headers["content-type"].startswith("text/plain")


# -- small helpers -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("/devices?tab=2", "/devices?tab=2"),
        ("/", "/"),
        ("//evil.example/", "/"),
        ("https://evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
        ("/ok\r\nSet-Cookie: x=1", "/"),
        ("", "/"),
        (None, "/"),
    ],
)
def test_safe_next_keeps_only_local_paths(value: object, expected: str) -> None:
    assert safe_next(value) == expected


@pytest.mark.parametrize(
    ("accept", "html"),
    [("text/html", True), ("application/json", False), ("*/*", False), ("", False)],
)
def test_wants_html_follows_the_accept_header(accept: str, html: bool) -> None:
    scope = {"type": "http", "headers": [(b"accept", accept.encode())]}
    assert wants_html(Request(scope)) is html


async def test_a_signed_in_users_page_is_not_stored_by_the_browser(
    client: httpx.AsyncClient,
) -> None:
    """Issue 10: private pages must not survive logout in the browser's cache."""
    await log_in(client)
    response = await client.get("/me", headers=JSON)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert "cookie" in response.headers["vary"].lower()
