"""Concurrency at scale on the server stores (Redis, Redis Cluster, PostgreSQL, MySQL),
through the ASGI middleware: many concurrent writers to one session, and no resurrection."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from tests.conftest import store_url
from tests.serverapp import build_app, client_for, cookie_of, token_of, with_cookie
from websession import SetCookie
from websession.core.tokens import hash_token
from websession.stores import open_async_store
from websession.stores.base import AsyncStore


@pytest.fixture(params=["redis", "redis-cluster", "postgres", "mysql"])
async def shared_store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncStore]:
    store = open_async_store(store_url(request.param, tmp_path))
    yield store
    await store.close()


async def test_200_concurrent_requests_each_setting_a_key_all_survive(
    shared_store: AsyncStore, clients: list[httpx.AsyncClient]
) -> None:
    client = client_for(build_app(shared_store), clients)
    headers = with_cookie(cookie_of(await client.get("/write", params={"key": "seed"})))
    responses = await asyncio.gather(
        *(
            client.get("/write", params={"key": f"k{i}", "v": str(i)}, headers=headers)
            for i in range(200)
        )
    )
    assert [r.status_code for r in responses] == [200] * 200
    data = (await client.get("/all", headers=headers)).json()
    assert data == {"seed": "x", **{f"k{i}": str(i) for i in range(200)}}


async def test_save_after_another_request_destroyed_the_session_does_not_resurrect_it(
    shared_store: AsyncStore, clients: list[httpx.AsyncClient]
) -> None:
    entered, release = asyncio.Event(), asyncio.Event()

    async def slow_write(request: Request) -> Response:
        entered.set()  # the session is loaded by now
        await release.wait()
        request.session["late"] = "too late"
        return PlainTextResponse("ok")

    client = client_for(build_app(shared_store, Route("/slow", slow_write)), clients)
    cookie = cookie_of(await client.get("/write", params={"v": "1"}))
    headers = with_cookie(cookie)
    slow = asyncio.create_task(client.get("/slow", headers=headers))
    await entered.wait()
    assert (await client.get("/destroy", headers=headers)).status_code == 200
    release.set()
    late = await slow
    assert late.status_code == 200
    assert SetCookie.parse(late.headers["set-cookie"]).value == ""  # the dead cookie is dropped
    assert await shared_store.load(hash_token(token_of(cookie))) is None
    assert (await client.get("/all", headers=headers)).json() == {}
