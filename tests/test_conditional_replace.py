"""Regenerate never revives a session that ended elsewhere: when the session is deleted
(logged out) or revoked between this request's load and its regenerate, the store's
conditional replace refuses, no record is created, and the response deletes the cookie.
Over HTTP, through the ASGI middleware and the Flask integration, on memory and SQLite."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import flask
import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from websession import SessionConfig, SessionMiddleware, SetCookie, get_session, open_store
from websession.core.lifecycle import REVOKED_KEY
from websession.core.session import Session
from websession.core.tokens import hash_token
from websession.integrations.flask import get_session as flask_get_session
from websession.integrations.flask import init_app
from websession.stores import open_async_store
from websession.stores.base import AsyncStore, Store
from websession.types import Changes

CONFIG = SessionConfig(secret="r" * 32, secure=False)


def revocation(store_record_last_seen: float, expires_at: float) -> Changes:
    return Changes(
        last_seen=store_record_last_seen,
        expires_at=expires_at,
        set={REVOKED_KEY: store_record_last_seen},
    )


def set_cookie(headers: list[str]) -> SetCookie:
    assert len(headers) == 1
    return SetCookie.parse(headers[0])


@pytest.fixture(params=["memory", "sqlite"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return "memory://" if request.param == "memory" else f"sqlite:///{tmp_path / 's.db'}"


# -- ASGI --------------------------------------------------------------------------------


class AsgiWorld:
    def __init__(self, store: AsyncStore, how: str) -> None:
        self.store, self.how = store, how
        self.regenerated: list[Session] = []

        async def login(request: Request) -> Response:
            get_session(request)["cart"] = [1]
            get_session(request).user_id = "alice"
            return PlainTextResponse("ok")

        async def elevate(request: Request) -> Response:
            session = get_session(request)
            await self.end_elsewhere(session)
            session.regenerate()
            self.regenerated.append(session)
            return PlainTextResponse("ok")

        app = Starlette(routes=[Route("/login", login), Route("/elevate", elevate)])
        self.app = SessionMiddleware(app, store=store, config=CONFIG)

    async def end_elsewhere(self, session: Session) -> None:
        key, record = session.key, session.record
        assert key is not None
        assert record is not None
        if self.how == "deleted":
            await self.store.delete(key)
        elif self.how == "revoked":
            await self.store.update(key, revocation(record.last_seen, record.expires_at))

    def client(self) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=self.app)
        return httpx.AsyncClient(transport=transport, base_url="http://testserver")


@pytest.fixture
async def asgi_store(url: str) -> AsyncIterator[AsyncStore]:
    store = open_async_store(url)
    yield store
    await store.close()


@pytest.mark.parametrize("how", ["deleted", "revoked"])
async def test_asgi_regenerate_of_a_session_ended_elsewhere_ends_anonymous(
    asgi_store: AsyncStore, how: str
) -> None:
    world = AsgiWorld(asgi_store, how)
    async with world.client() as client:
        login = set_cookie((await client.get("/login")).headers.get_list("set-cookie"))
        old_key = hash_token(login.value.split(".")[0])
        response = await client.get("/elevate", headers={"cookie": f"session={login.value}"})
    assert response.status_code == 200
    assert set_cookie(response.headers.get_list("set-cookie")).deletes
    new_key = world.regenerated[0].key
    assert new_key is not None
    assert new_key != old_key
    assert await asgi_store.load(new_key) is None
    old = await asgi_store.load(old_key)
    assert (old is None) if how == "deleted" else (old is not None and REVOKED_KEY in old.data)


async def test_asgi_regenerate_of_a_live_session_still_works(asgi_store: AsyncStore) -> None:
    world = AsgiWorld(asgi_store, "live")
    async with world.client() as client:
        login = set_cookie((await client.get("/login")).headers.get_list("set-cookie"))
        response = await client.get("/elevate", headers={"cookie": f"session={login.value}"})
    cookie = set_cookie(response.headers.get_list("set-cookie"))
    assert not cookie.deletes
    new_key = world.regenerated[0].key
    assert new_key is not None
    record = await asgi_store.load(new_key)
    assert record is not None
    assert record.data == {"cart": [1]}


# -- Flask -------------------------------------------------------------------------------


@pytest.fixture
def sync_store(url: str) -> Iterator[Store]:
    store = open_store(url)
    yield store
    store.close()


def flask_app(store: Store, end_elsewhere: Callable[[Session], None]) -> tuple[Any, list[Session]]:
    app = flask.Flask(__name__)
    init_app(app, store=store, config=CONFIG)
    regenerated: list[Session] = []

    @app.get("/login")
    def login() -> str:
        flask.session["cart"] = [1]
        flask_get_session().user_id = "alice"
        return "ok"

    @app.get("/elevate")
    def elevate() -> str:
        session = flask_get_session()
        end_elsewhere(session)
        session.regenerate()
        regenerated.append(session)
        return "ok"

    return app.test_client(use_cookies=False), regenerated


@pytest.mark.parametrize("how", ["deleted", "revoked"])
def test_flask_regenerate_of_a_session_ended_elsewhere_ends_anonymous(
    sync_store: Store, how: str
) -> None:
    def end_elsewhere(session: Session) -> None:
        key, record = session.key, session.record
        assert key is not None
        assert record is not None
        if how == "deleted":
            sync_store.delete(key)
        else:
            sync_store.update(key, revocation(record.last_seen, record.expires_at))

    client, regenerated = flask_app(sync_store, end_elsewhere)
    login = set_cookie(client.get("/login").headers.getlist("Set-Cookie"))
    response = client.get("/elevate", headers={"Cookie": f"session={login.value}"})
    assert response.status_code == 200
    assert set_cookie(response.headers.getlist("Set-Cookie")).deletes
    new_key = regenerated[0].key
    assert new_key is not None
    assert sync_store.load(new_key) is None


def test_flask_regenerate_of_a_live_session_still_works(sync_store: Store) -> None:
    client, regenerated = flask_app(sync_store, lambda session: None)
    login = set_cookie(client.get("/login").headers.getlist("Set-Cookie"))
    response = client.get("/elevate", headers={"Cookie": f"session={login.value}"})
    assert not set_cookie(response.headers.getlist("Set-Cookie")).deletes
    new_key = regenerated[0].key
    assert new_key is not None
    assert sync_store.load(new_key) is not None
