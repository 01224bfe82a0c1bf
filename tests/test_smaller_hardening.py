"""Smaller hardening: binding a user rotates the token by itself; rejected cookies are
counted and logged without their value; WebAuth verifies before it reads the store."""

from __future__ import annotations

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from websession import SessionConfig, SessionMiddleware, SetCookie, get_session
from websession.stores.memory import open_async_memory

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
