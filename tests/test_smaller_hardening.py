"""Smaller hardening: binding a user rotates the token by itself; rejected cookies are
counted and logged without their value; WebAuth verifies before it reads the store."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path
from typing import cast

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from tests.spy import SpyStore
from websession import SessionConfig, SessionMiddleware, SetCookie, get_session, open_async_store
from websession.auth import AsyncAuth, AuthConfig
from websession.auth.passwords import PasswordHasher
from websession.auth.userstores import open_async_user_store
from websession.auth.web import WebAuth
from websession.backends import AsyncStoreBackend
from websession.core.jsondata import REVOKED_KEY
from websession.core.tokens import hash_token, new_token
from websession.rejections import REJECTED, RejectedCookies
from websession.stores.base import AsyncStore
from websession.stores.memory import open_async_memory
from websession.testing import FakeClock, make_record

CONFIG = SessionConfig(secret="s" * 32, secure=False)


def client() -> httpx.AsyncClient:
    async def visit(request: Request) -> Response:
        get_session(request)["cart"] = ["book"]
        return PlainTextResponse("ok")

    async def bind(request: Request) -> Response:
        get_session(request).user_id = request.query_params["user"]  # no regenerate()
        return PlainTextResponse("ok")

    async def whoami(request: Request) -> Response:
        session = get_session(request)
        return JSONResponse({"user": session.user_id, "cart": session.get("cart")})

    app = Starlette(routes=[Route("/visit", visit), Route("/bind", bind), Route("/whoami", whoami)])
    app.add_middleware(SessionMiddleware, store=open_async_memory(), config=CONFIG)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


def cookie_of(response: httpx.Response) -> str:
    return "session=" + SetCookie.parse(response.headers["set-cookie"]).value


async def test_binding_a_user_rotates_the_token_without_regenerate() -> None:
    async with client() as http:
        planted = cookie_of(await http.get("/visit"))  # e.g. fixed by an attacker
        http.cookies.clear()
        bound = await http.get("/bind", params={"user": "alice"}, headers={"cookie": planted})
        fresh = cookie_of(bound)
        http.cookies.clear()
        assert fresh != planted
        mine = await http.get("/whoami", headers={"cookie": fresh})
        assert mine.json() == {"user": "alice", "cart": ["book"]}
        http.cookies.clear()
        theirs = await http.get("/whoami", headers={"cookie": planted})
        assert theirs.json() == {"user": None, "cart": None}


async def test_rebinding_the_same_user_does_not_rotate() -> None:
    async with client() as http:
        planted = cookie_of(await http.get("/visit"))
        http.cookies.clear()
        bound = cookie_of(
            await http.get("/bind", params={"user": "alice"}, headers={"cookie": planted})
        )
        http.cookies.clear()
        again = await http.get("/bind", params={"user": "alice"}, headers={"cookie": bound})
        assert "set-cookie" not in again.headers


async def test_web_auth_verifies_the_cookie_before_any_store_read(tmp_path: Path) -> None:
    sessions = SpyStore(open_async_store("memory://"))
    auth = AsyncAuth(
        cast(AsyncStore, sessions),
        open_async_user_store(f"sqlite:///{tmp_path / 'users.db'}"),
        session_config=CONFIG,
        config=AuthConfig.development(),
    )
    web = WebAuth(auth)
    token = new_token()
    await sessions.create(hash_token(token), make_record({}, user_id="someone"))

    @web.login_required
    async def me(request: Request) -> Response:
        return PlainTextResponse("secret")

    app = Starlette(routes=[Route("/me", me)])
    app.add_middleware(SessionMiddleware, store=cast(AsyncStore, sessions), config=CONFIG)
    sessions.reset()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        response = await http.get(
            "/me", headers={"cookie": f"session={token}", "accept": "application/json"}
        )
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_session"
    assert sessions.ops() == []  # an unsigned token is never looked up
    await auth.close()
    await auth.users.close()


def test_the_dummy_password_hash_is_built_at_start_up(monkeypatch: pytest.MonkeyPatch) -> None:
    hasher = PasswordHasher(AuthConfig.development())
    built: list[str] = []

    def counting_hash(password: str) -> str:
        built.append(password)
        return ""

    monkeypatch.setattr(hasher, "_hash", counting_hash)
    assert hasher.verify_dummy("a guess") is False
    assert built == []  # no hash on the first unknown-user login


def test_rejected_cookies_are_counted_and_logged_rate_limited_without_the_value(
    caplog: pytest.LogCaptureFixture,
) -> None:
    now = [0.0]
    log = RejectedCookies(interval=60.0, clock=lambda: now[0])
    with caplog.at_level(logging.DEBUG, "websession.cookies"):
        for _ in range(5):
            log.note("signature")
        log.note("revoked")
        now[0] = 61.0
        log.note("expired")
    assert log.counts == {"signature": 5, "revoked": 1, "expired": 1}
    lines = [r.getMessage() for r in caplog.records if r.name == "websession.cookies"]
    assert lines == [
        "rejected session cookies: signature=1",
        "rejected session cookies: expired=1, revoked=1, signature=4",
    ]
    assert all(r.levelno == logging.DEBUG for r in caplog.records)


@pytest.mark.parametrize("reason", ["signature", "unknown", "revoked", "expired"])
async def test_the_store_backend_counts_each_kind_of_rejected_cookie(reason: str) -> None:
    clock = FakeClock()
    store = open_async_memory()
    backend = AsyncStoreBackend(store, CONFIG, clock=clock)
    token = new_token()
    value = backend.engine.cookie_value(token)
    if reason == "signature":
        value = value[:-2] + ("AA" if not value.endswith("AA") else "BB")
    if reason in ("revoked", "expired"):
        data: dict[str, object] = {REVOKED_KEY: True} if reason == "revoked" else {}
        await store.create(hash_token(token), make_record(data, now=clock()))
    if reason == "expired":
        clock.advance(timedelta(days=30))
    before = REJECTED.counts[reason]
    session = await backend.open([f"session={value}"])
    assert session.is_new
    assert REJECTED.counts[reason] == before + 1
