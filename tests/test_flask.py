"""The Flask integration: flask.session on a websession store, shared with ASGI apps."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import flask
import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.conftest import store_url
from websession import SessionConfig, SessionMiddleware, SetCookie, open_async_store, open_store
from websession.integrations.flask import get_session, init_app
from websession.stores.base import Store

CONFIG = SessionConfig(secret="f" * 32, secure=False)


class CountingStore:
    """Delegates to a real sync store and counts the calls."""

    def __init__(self, inner: Store) -> None:
        self.inner = inner
        self.ops: list[str] = []

    def __getattr__(self, name: str) -> Any:
        target = getattr(self.inner, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            self.ops.append(name)
            return target(*args, **kwargs)

        return call


def build_app(store: Store | str) -> flask.Flask:
    app = flask.Flask(__name__)

    @app.get("/read")
    def read() -> dict[str, Any]:
        return {"value": flask.session.get("value")}

    @app.get("/write")
    def write() -> str:
        flask.session[flask.request.args.get("key", "value")] = flask.request.args.get("v", "x")
        return "ok"

    @app.get("/all")
    def everything() -> dict[str, Any]:
        return dict(flask.session)

    @app.get("/flash")
    def flash() -> str:
        flask.flash("saved", "info")
        return "ok"

    @app.get("/flashes")
    def flashes() -> dict[str, Any]:
        return {"flashes": [list(m) for m in flask.get_flashed_messages(with_categories=True)]}

    @app.post("/login")
    def login() -> str:
        session = get_session()
        session.regenerate()
        session.user_id = "alice"
        return "ok"

    @app.post("/logout")
    def logout() -> str:
        get_session().destroy()
        return "ok"

    init_app(app, store, CONFIG)
    return app


def cookie_of(response: Any) -> str:
    header = response.headers.get("Set-Cookie")
    assert header is not None
    return SetCookie.parse(header).value


@pytest.fixture
def store(tmp_path: Path) -> CountingStore:
    return CountingStore(open_store(f"sqlite:///{tmp_path / 's.db'}"))


@pytest.fixture
def client(store: CountingStore) -> Any:
    return build_app(store).test_client(use_cookies=False)


def test_no_cookie_no_store_io(client: Any, store: CountingStore) -> None:
    response = client.get("/read")
    assert response.json == {"value": None}
    assert store.ops == []
    assert "Set-Cookie" not in response.headers


def test_write_then_read_costs_one_create_then_one_load(client: Any, store: CountingStore) -> None:
    value = cookie_of(client.get("/write", query_string={"v": "hello"}))
    assert store.ops == ["create"]
    response = client.get("/read", headers={"Cookie": f"session={value}"})
    assert response.json == {"value": "hello"}
    assert store.ops == ["create", "load"]
    assert "Set-Cookie" not in response.headers
    assert "Cookie" in response.headers["Vary"]


def test_flask_flash_round_trips(client: Any) -> None:
    value = cookie_of(client.get("/flash"))
    headers = {"Cookie": f"session={value}"}
    assert client.get("/flashes", headers=headers).json == {"flashes": [["info", "saved"]]}
    assert client.get("/flashes", headers=headers).json == {"flashes": []}


def test_regenerate_and_destroy(client: Any, store: CountingStore) -> None:
    old = cookie_of(client.get("/write", query_string={"v": "cart"}))
    new = cookie_of(client.post("/login", headers={"Cookie": f"session={old}"}))
    assert new != old
    assert client.get("/read", headers={"Cookie": f"session={old}"}).json == {"value": None}
    assert client.get("/read", headers={"Cookie": f"session={new}"}).json == {"value": "cart"}
    response = client.post("/logout", headers={"Cookie": f"session={new}"})
    assert SetCookie.parse(response.headers["Set-Cookie"]).deletes
    assert client.get("/read", headers={"Cookie": f"session={new}"}).json == {"value": None}


def test_closed_store_answers_503_on_load(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'x.db'}")
    client = build_app(store).test_client(use_cookies=False)
    value = cookie_of(client.get("/write"))
    store.close()
    response = client.get("/read", headers={"Cookie": f"session={value}"})
    assert response.status_code == 503


def test_store_failure_bodies_are_those_of_the_asgi_side(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'x.db'}")
    client = build_app(store).test_client(use_cookies=False)
    value = cookie_of(client.get("/write"))
    store.close()
    headers = {"Cookie": f"session={value}", "Accept": "application/json"}
    response = client.get("/read", headers=headers)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.json == {
        "error": {
            "code": "store_error",
            "message": "The session store is unavailable. Please try again shortly.",
        }
    }
    text = client.get("/read", headers={"Cookie": f"session={value}"})
    assert text.mimetype == "text/plain"
    assert text.text == "The session store is unavailable. Please try again shortly."


def test_closed_store_answers_503_on_save(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'x.db'}")
    client = build_app(store).test_client(use_cookies=False)
    store.close()
    response = client.get("/write")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"
    assert "Set-Cookie" not in response.headers


def test_concurrent_requests_each_setting_a_key_all_survive(
    store_kind: str, tmp_path: Path
) -> None:
    store = open_store(store_url(store_kind, tmp_path))
    try:
        app = build_app(store)
        value = cookie_of(app.test_client().get("/write", query_string={"key": "seed"}))
        headers = {"Cookie": f"session={value}"}

        def one(i: int) -> int:
            client = app.test_client(use_cookies=False)
            query = {"key": f"k{i}", "v": str(i)}
            status: int = client.get("/write", query_string=query, headers=headers).status_code
            return status

        with ThreadPoolExecutor(max_workers=16) as pool:
            assert set(pool.map(one, range(100))) == {200}
        data = app.test_client(use_cookies=False).get("/all", headers=headers).json
        assert data is not None
        assert {f"k{i}": str(i) for i in range(100)}.items() <= data.items()
    finally:
        store.close()


async def test_flask_and_asgi_apps_share_sessions(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    flask_client = build_app(url).test_client(use_cookies=False)

    async def asgi_read(request: Request) -> Response:
        request.session["from_asgi"] = True
        return JSONResponse({"value": request.session.get("value")})

    asgi = Starlette(routes=[Route("/read", asgi_read)])
    store = open_async_store(url)
    asgi.add_middleware(SessionMiddleware, store=store, config=CONFIG)
    value = cookie_of(flask_client.get("/write", query_string={"v": "from flask"}))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=asgi), base_url="http://testserver"
    ) as client:
        response = await client.get("/read", headers={"cookie": f"session={value}"})
    assert response.json() == {"value": "from flask"}
    data = flask_client.get("/all", headers={"Cookie": f"session={value}"}).json
    assert data == {"value": "from flask", "from_asgi": True}
    await store.close()
