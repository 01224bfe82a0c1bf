"""The one backend interface: the resolver, and a backend written outside websession
driven by the integrations without their knowing which backend it is."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from websession import (
    AsyncSessionBackend,
    ConfigError,
    Session,
    SessionBackend,
    SessionConfig,
    SessionMiddleware,
    SetCookie,
)
from websession.backends import (
    AsyncStoreBackend,
    StoreBackend,
    open_async_backend,
    open_backend,
)
from websession.backends.cookie import CookieBackend, SyncCookieBackend
from websession.stores import MemoryStore, open_async_store

CONFIG = SessionConfig(secret="b" * 32, secure=False)


def test_urls_resolve_to_the_backend_of_their_kind() -> None:
    assert isinstance(open_backend("memory://", CONFIG), StoreBackend)
    assert isinstance(open_backend("cookie://", CONFIG), SyncCookieBackend)
    assert isinstance(open_async_backend("memory://", CONFIG), AsyncStoreBackend)
    assert isinstance(open_async_backend("cookie://", CONFIG), CookieBackend)


def test_a_store_object_is_wrapped_and_a_backend_kept() -> None:
    store = MemoryStore()
    backend = open_backend(store, CONFIG)
    assert isinstance(backend, StoreBackend)
    assert backend.store is store
    assert open_backend(backend) is backend
    assert open_backend(backend, CONFIG) is backend


def test_every_backend_implements_the_interface() -> None:
    assert isinstance(CookieBackend(CONFIG), AsyncSessionBackend)
    assert isinstance(AsyncStoreBackend(open_async_store("memory://"), CONFIG), AsyncSessionBackend)
    assert isinstance(SyncCookieBackend(CONFIG), SessionBackend)
    assert isinstance(StoreBackend(MemoryStore(), CONFIG), SessionBackend)


def test_a_backend_of_the_other_kind_is_refused_with_advice() -> None:
    with pytest.raises(ConfigError, match="sync backend"):
        open_async_backend(cast(Any, SyncCookieBackend(CONFIG)))  # mypy refuses it too
    with pytest.raises(ConfigError, match="SyncCookieBackend"):
        open_backend(cast(Any, CookieBackend(CONFIG)))


def test_a_backend_and_another_config_are_a_config_error() -> None:
    with pytest.raises(ConfigError, match="both"):
        open_backend(StoreBackend(MemoryStore(), CONFIG), CONFIG.replace(secret="c" * 32))


class Recording:
    """A backend written outside websession: delegates, and records what it is asked."""

    def __init__(self, inner: AsyncSessionBackend) -> None:
        self.inner = inner
        self.config = inner.config
        self.calls: list[str] = []

    async def open(
        self, cookie_headers: Sequence[str], session_class: type[Session] = Session
    ) -> Session:
        self.calls.append("open")
        return await self.inner.open(cookie_headers, session_class)

    async def save(self, session: Session) -> SetCookie | None:
        self.calls.append("save")
        return await self.inner.save(session)

    async def close(self) -> None:
        await self.inner.close()


async def test_the_middleware_drives_any_backend() -> None:
    async def write(request: Request) -> Response:
        request.session["k"] = "v"
        return PlainTextResponse("ok")

    backend = Recording(open_async_backend("memory://", CONFIG))
    app = SessionMiddleware(Starlette(routes=[Route("/", write)]), store=backend)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.get("/")
    assert response.status_code == 200
    assert "set-cookie" in response.headers
    assert backend.calls == ["open", "save"]


async def _get(app: Any, path: str, cookie: str | None = None) -> httpx.Response:
    headers = {"cookie": cookie} if cookie else {}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        return await client.get(path, headers=headers)


async def _untouched(request: Request) -> Response:
    return PlainTextResponse("ok")


async def test_a_backend_written_elsewhere_gets_every_call_even_untouched() -> None:
    backend = Recording(open_async_backend("memory://", CONFIG))
    app = SessionMiddleware(Starlette(routes=[Route("/", _untouched)]), store=backend)
    response = await _get(app, "/")
    assert response.status_code == 200
    assert backend.calls == ["open", "save"]


@pytest.mark.parametrize("url", ["memory://", "cookie://"])
async def test_own_backends_skip_the_save_of_an_untouched_cookieless_request(url: str) -> None:
    backend = open_async_backend(url, CONFIG)
    saves: list[Session] = []
    real_save = backend.save

    async def save(session: Session) -> SetCookie | None:
        saves.append(session)
        return await real_save(session)

    backend.save = save  # type: ignore[method-assign]

    async def written(request: Request) -> Response:
        request.session["k"] = "v"
        return PlainTextResponse("ok")

    async def user_only(request: Request) -> Response:
        cast(Session, request.session).user_id = "alice"  # no read, no key: kept
        return PlainTextResponse("ok")

    routes = [Route("/", _untouched), Route("/w", written), Route("/u", user_only)]
    app = SessionMiddleware(Starlette(routes=routes), store=backend)
    untouched = await _get(app, "/")
    assert "set-cookie" not in untouched.headers
    assert "vary" not in untouched.headers
    assert saves == []
    assert "set-cookie" in (await _get(app, "/w")).headers
    assert "set-cookie" in (await _get(app, "/u")).headers
    assert len(saves) == 2
