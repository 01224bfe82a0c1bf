"""Regenerate races over real concurrent requests on every real store (issue 10).

Each test holds the regenerating request(s) after the middleware has loaded the session
(the view runs only then) until the conflicting write has finished: a logout request,
an operator's revoke-user, or a second regenerate of the same session. Then the
regenerate must not bring anything back: no new live record, the cookie deleted, and
two regenerates leave one live copy. ASGI (concurrent requests on one event loop) and
Flask (one thread per request), on memory, file, SQLite, Redis, Redis Cluster and
PostgreSQL.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import flask
import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from tests.conftest import store_url
from websession import SessionConfig, SessionMiddleware, SetCookie, get_session, open_store
from websession.auth._async.revocation import indexed_async
from websession.auth._async.revocation import revoke_user as revoke_user_async
from websession.auth._sync.revocation import indexed, revoke_user
from websession.backends.cookie import CookieBackend
from websession.core.session import Session
from websession.core.tokens import hash_token
from websession.integrations.flask import get_session as flask_get_session
from websession.integrations.flask import init_app
from websession.stores import open_async_store
from websession.stores.base import AsyncStore, Store
from websession.types import SessionKey

CONFIG = SessionConfig(secret="q" * 32, secure=False)
STORES = ["memory", "file", "sqlite", "redis", "redis-cluster", "postgres"]
WAIT = 10.0  # seconds: a gate that is never opened fails the test instead of hanging


@pytest.fixture(params=STORES)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return store_url(request.param, tmp_path)


def set_cookie(headers: list[str]) -> SetCookie:
    assert len(headers) == 1, headers
    return SetCookie.parse(headers[0])


def key_of(cookie: str) -> SessionKey:
    return hash_token(cookie.split(".")[0])


# -- ASGI --------------------------------------------------------------------------------


class AsgiRace:
    """``/elevate`` waits, once its session is loaded, until ``go`` is set."""

    def __init__(self, store: AsyncStore | CookieBackend, regenerates: int) -> None:
        self.store = store
        self.expected = regenerates
        self.arrived = 0
        self.all_loaded = asyncio.Event()
        self.go = asyncio.Event()
        self.regenerated: list[Session] = []

        async def login(request: Request) -> Response:
            session = get_session(request)
            session["cart"] = [1]
            session.user_id = "alice"
            return PlainTextResponse("ok")

        async def elevate(request: Request) -> Response:
            session = get_session(request)
            assert session.user_id == "alice"  # loaded: the view runs after the read
            self.arrived += 1
            if self.arrived == self.expected:
                self.all_loaded.set()
            await asyncio.wait_for(self.go.wait(), WAIT)
            session.regenerate()
            self.regenerated.append(session)
            return PlainTextResponse("ok")

        async def logout(request: Request) -> Response:
            get_session(request).destroy()
            return PlainTextResponse("ok")

        async def whoami(request: Request) -> Response:
            session = get_session(request)
            return JSONResponse({"user": session.user_id, "cart": session.get("cart")})

        routes = [
            Route("/login", login),
            Route("/elevate", elevate),
            Route("/logout", logout),
            Route("/whoami", whoami),
        ]
        self.app = SessionMiddleware(Starlette(routes=routes), store=store, config=CONFIG)

    def client(self) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=self.app)
        return httpx.AsyncClient(transport=transport, base_url="http://testserver")


@pytest.fixture
async def async_store(url: str) -> AsyncIterator[AsyncStore]:
    store = open_async_store(url)
    yield store
    await store.close()


async def login_async(client: httpx.AsyncClient) -> dict[str, str]:
    cookie = set_cookie((await client.get("/login")).headers.get_list("set-cookie"))
    client.cookies.clear()
    return {"cookie": f"{CONFIG.cookie_name}={cookie.value}"}


async def assert_anonymous_async(client: httpx.AsyncClient, response: httpx.Response) -> None:
    """``response`` ended the session: its cookie (if any) serves no one."""
    headers = response.headers.get_list("set-cookie")
    if headers:
        cookie = set_cookie(headers)
        assert cookie.deletes
        again = await client.get("/whoami", headers={"cookie": f"session={cookie.value}"})
        client.cookies.clear()
        assert again.json() == {"user": None, "cart": None}


@pytest.mark.parametrize("conflict", ["logout", "revoke-user"])
async def test_asgi_a_logout_or_revoke_during_a_regenerate_is_not_undone(
    async_store: AsyncStore, conflict: str
) -> None:
    race = AsgiRace(async_store, regenerates=1)
    async with race.client() as client:
        headers = await login_async(client)

        async def elevate() -> httpx.Response:
            response = await client.get("/elevate", headers=headers)
            client.cookies.clear()
            return response

        async def end_elsewhere() -> None:
            await asyncio.wait_for(race.all_loaded.wait(), WAIT)
            if conflict == "logout":
                ended = await client.get("/logout", headers=headers)
                client.cookies.clear()
                assert set_cookie(ended.headers.get_list("set-cookie")).deletes
            else:
                store = indexed_async(async_store)
                assert await revoke_user_async(store, "alice", time.time()) == 1
            race.go.set()

        response, _ = await asyncio.gather(elevate(), end_elsewhere())
        assert response.status_code == 200
        await assert_anonymous_async(client, response)
        assert set_cookie(response.headers.get_list("set-cookie")).deletes
        new_key = race.regenerated[0].key
        assert new_key is not None
        assert await async_store.load(new_key) is None
        replay = await client.get("/whoami", headers=headers)
        assert replay.json() == {"user": None, "cart": None}


async def test_asgi_two_concurrent_regenerates_leave_one_live_copy(
    async_store: AsyncStore,
) -> None:
    race = AsgiRace(async_store, regenerates=2)
    async with race.client() as client:
        headers = await login_async(client)
        old_key = key_of(headers["cookie"].split("=", 1)[1])

        async def elevate() -> httpx.Response:
            response = await client.get("/elevate", headers=headers)
            client.cookies.clear()
            return response

        async def open_gate() -> None:
            await asyncio.wait_for(race.all_loaded.wait(), WAIT)  # both loaded
            race.go.set()

        first, second, _ = await asyncio.gather(elevate(), elevate(), open_gate())
        cookies = [set_cookie(r.headers.get_list("set-cookie")) for r in (first, second)]
        live = [c for c in cookies if not c.deletes]
        assert len(live) == 1
        keys = [s.key for s in race.regenerated]
        records = [await async_store.load(k) for k in keys if k is not None]
        assert sum(r is not None for r in records) == 1
        assert await async_store.load(old_key) is None
        who = await client.get("/whoami", headers={"cookie": f"session={live[0].value}"})
        assert who.json() == {"user": "alice", "cart": [1]}


# -- encrypted cookies, revocations in each store ---------------------------------------


@pytest.mark.parametrize("conflict", ["logout", "revoke-user"])
async def test_cookie_backend_a_logout_or_revoke_during_a_regenerate_is_not_undone(
    async_store: AsyncStore, conflict: str
) -> None:
    backend = CookieBackend(CONFIG, revocations=async_store)
    race = AsgiRace(backend, regenerates=1)
    async with race.client() as client:
        headers = await login_async(client)

        async def elevate() -> httpx.Response:
            response = await client.get("/elevate", headers=headers)
            client.cookies.clear()
            return response

        async def end_elsewhere() -> None:
            await asyncio.wait_for(race.all_loaded.wait(), WAIT)
            if conflict == "logout":
                ended = await client.get("/logout", headers=headers)
                client.cookies.clear()
                assert set_cookie(ended.headers.get_list("set-cookie")).deletes
            else:
                await backend.revoke_user("alice")
            race.go.set()

        response, _ = await asyncio.gather(elevate(), end_elsewhere())
        assert response.status_code == 200
        assert set_cookie(response.headers.get_list("set-cookie")).deletes
        replay = await client.get("/whoami", headers=headers)
        assert replay.json() == {"user": None, "cart": None}


async def test_cookie_backend_two_concurrent_regenerates_leave_one_live_cookie(
    async_store: AsyncStore,
) -> None:
    race = AsgiRace(CookieBackend(CONFIG, revocations=async_store), regenerates=2)
    async with race.client() as client:
        headers = await login_async(client)

        async def elevate() -> httpx.Response:
            response = await client.get("/elevate", headers=headers)
            client.cookies.clear()
            return response

        async def open_gate() -> None:
            await asyncio.wait_for(race.all_loaded.wait(), WAIT)  # both loaded
            race.go.set()

        first, second, _ = await asyncio.gather(elevate(), elevate(), open_gate())
        cookies = [set_cookie(r.headers.get_list("set-cookie")) for r in (first, second)]
        live = [c for c in cookies if not c.deletes]
        assert len(live) == 1
        who = await client.get("/whoami", headers={"cookie": f"session={live[0].value}"})
        assert who.json() == {"user": "alice", "cart": [1]}
        replay = await client.get("/whoami", headers=headers)
        assert replay.json() == {"user": None, "cart": None}


# -- Flask -------------------------------------------------------------------------------


class FlaskRace:
    """``/elevate`` waits, once its session is loaded, until ``go`` is set."""

    def __init__(self, store: Store, regenerates: int) -> None:
        self.store = store
        self.loaded = threading.Barrier(regenerates + 1)  # the views and the test
        self.go = threading.Event()
        self.regenerated: list[Session] = []
        app = flask.Flask(__name__)
        init_app(app, store=store, config=CONFIG)

        @app.get("/login")
        def login() -> str:
            flask.session["cart"] = [1]
            flask_get_session().user_id = "alice"
            return "ok"

        @app.get("/elevate")
        def elevate() -> str:
            session = flask_get_session()
            assert session.user_id == "alice"  # loaded: the view runs after the read
            self.loaded.wait(WAIT)
            assert self.go.wait(WAIT)
            session.regenerate()
            self.regenerated.append(session)
            return "ok"

        @app.get("/logout")
        def logout() -> str:
            flask_get_session().destroy()
            return "ok"

        @app.get("/whoami")
        def whoami() -> Any:
            session = flask_get_session()
            return {"user": session.user_id, "cart": session.get("cart")}

        self.app = app

    def get(self, path: str, headers: dict[str, str] | None = None) -> Any:
        return self.app.test_client(use_cookies=False).get(path, headers=headers or {})


@pytest.fixture
def sync_store(url: str) -> Iterator[Store]:
    store = open_store(url)
    yield store
    store.close()


def login_sync(race: FlaskRace) -> dict[str, str]:
    cookie = set_cookie(race.get("/login").headers.getlist("Set-Cookie"))
    return {"Cookie": f"{CONFIG.cookie_name}={cookie.value}"}


@pytest.mark.parametrize("conflict", ["logout", "revoke-user"])
def test_flask_a_logout_or_revoke_during_a_regenerate_is_not_undone(
    sync_store: Store, conflict: str
) -> None:
    race = FlaskRace(sync_store, regenerates=1)
    headers = login_sync(race)
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(race.get, "/elevate", headers)
        race.loaded.wait(WAIT)  # the request has loaded its session
        if conflict == "logout":
            assert set_cookie(race.get("/logout", headers).headers.getlist("Set-Cookie")).deletes
        else:
            assert revoke_user(indexed(sync_store), "alice", time.time()) == 1
        race.go.set()
        response = pending.result(WAIT)
    assert response.status_code == 200
    assert set_cookie(response.headers.getlist("Set-Cookie")).deletes
    new_key = race.regenerated[0].key
    assert new_key is not None
    assert sync_store.load(new_key) is None
    assert race.get("/whoami", headers).json == {"user": None, "cart": None}


def test_flask_two_concurrent_regenerates_leave_one_live_copy(sync_store: Store) -> None:
    race = FlaskRace(sync_store, regenerates=2)
    headers = login_sync(race)
    old_key = key_of(headers["Cookie"].split("=", 1)[1])
    with ThreadPoolExecutor(max_workers=2) as pool:
        pending = [pool.submit(race.get, "/elevate", headers) for _ in range(2)]
        race.loaded.wait(WAIT)  # both requests have loaded the session
        race.go.set()
        responses = [p.result(WAIT) for p in pending]
    cookies = [set_cookie(r.headers.getlist("Set-Cookie")) for r in responses]
    live = [c for c in cookies if not c.deletes]
    assert len(live) == 1
    keys = [s.key for s in race.regenerated if s.key is not None]
    assert sum(sync_store.load(k) is not None for k in keys) == 1
    assert sync_store.load(old_key) is None
    who = race.get("/whoami", {"Cookie": f"session={live[0].value}"})
    assert who.json == {"user": "alice", "cart": [1]}
