"""The encrypted cookie backend under Flask: the sync driver, shared cookies and
revocation records with the ASGI side, 413 and 503."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any, cast
from urllib.parse import quote

import flask
import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from websession import (
    ConfigError,
    SessionConfig,
    SessionMiddleware,
    SetCookie,
    StoreError,
    open_store,
)
from websession import get_session as asgi_get_session
from websession.backends.cookie import (
    MAX_COOKIE_BYTES,
    CookieBackend,
    SyncCookieBackend,
    revocation_key,
)
from websession.integrations.flask import WebsessionInterface, get_session, init_app
from websession.stores.base import Store
from websession.testing import FakeClock

CONFIG = SessionConfig(
    secret="c" * 32,
    secure=False,
    idle_timeout=timedelta(minutes=30),
    absolute_timeout=timedelta(hours=2),
)


EVERY_OP = frozenset({"load", "create", "update", "touch", "replace", "delete"})


class SyncSpy:
    """Delegates to a real sync store and records the operation names; an operation
    named in ``failing`` raises StoreError instead."""

    def __init__(self, inner: Store, *, failing: frozenset[str] = frozenset()) -> None:
        self.inner = inner
        self.failing = failing
        self.ops: list[str] = []

    def __getattr__(self, name: str) -> Any:
        target = getattr(self.inner, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            self.ops.append(name)
            if name in self.failing:
                raise StoreError("store down") from ConnectionError("refused")
            return target(*args, **kwargs)

        return call


def build_app(store: Any, config: SessionConfig | None = CONFIG) -> flask.Flask:
    app = flask.Flask(__name__)

    @app.get("/read")
    def read() -> dict[str, Any]:
        return dict(flask.session)

    @app.get("/write")
    def write() -> str:
        for key, value in flask.request.args.items():
            flask.session[key] = value
        return "ok"

    @app.post("/login")
    def login() -> str:
        session = get_session()
        session.regenerate()
        session.user_id = flask.request.args.get("user", "alice")
        return "ok"

    @app.post("/logout")
    def logout() -> str:
        get_session().destroy()
        return "ok"

    @app.get("/whoami")
    def whoami() -> dict[str, Any]:
        session = get_session()
        return {"user": session.user_id, "new": session.is_new}

    @app.get("/big")
    def big() -> str:
        flask.session["blob"] = "x" * int(flask.request.args["n"])
        return "never sent"

    init_app(app, store, config)
    return app


def interface_of(app: flask.Flask) -> WebsessionInterface:
    interface = app.session_interface
    assert isinstance(interface, WebsessionInterface)
    return interface


def cookie_of(response: Any) -> SetCookie | None:
    headers = response.headers.getlist("Set-Cookie")
    return SetCookie.parse(headers[0]) if headers else None


def jar(response: Any) -> dict[str, str]:
    cookie = cookie_of(response)
    assert cookie is not None
    return {"Cookie": f"session={cookie.value}"}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def spy() -> SyncSpy:
    return SyncSpy(open_store("memory://"))


@pytest.fixture
def backend(spy: SyncSpy, clock: FakeClock) -> SyncCookieBackend:
    return SyncCookieBackend(CONFIG, revocations=cast(Store, spy), clock=clock)


@pytest.fixture
def client(backend: SyncCookieBackend) -> Any:
    return build_app(backend, None).test_client(use_cookies=False)


# -- round trip ----------------------------------------------------------------------


def test_data_travels_in_the_cookie_without_store_io(client: Any, spy: SyncSpy) -> None:
    response = client.get("/write", query_string={"color": "blue"})
    cookie = cookie_of(response)
    assert cookie is not None
    assert cookie.http_only
    assert "blue" not in cookie.value
    assert response.headers["Cache-Control"] == "no-store"
    assert "Cookie" in response.headers["Vary"]
    response = client.get("/read", headers=jar(response))
    assert response.json == {"color": "blue"}
    assert "Set-Cookie" not in response.headers
    assert spy.ops == []


def test_anonymous_visitor_who_stores_nothing_gets_no_cookie(client: Any) -> None:
    assert "Set-Cookie" not in client.get("/read").headers


def test_anonymous_cookie_sessions_do_no_store_io(clock: FakeClock) -> None:
    down = SyncSpy(open_store("memory://"), failing=EVERY_OP)
    client = build_app(
        SyncCookieBackend(CONFIG, revocations=cast(Store, down), clock=clock), None
    ).test_client(use_cookies=False)
    headers = jar(client.get("/write", query_string={"k": "v"}))
    for _ in range(3):
        clock.advance(timedelta(minutes=20))  # past the refresh threshold: resealed
        response = client.get("/write", query_string={"k": "w"}, headers=headers)
        assert response.status_code == 200
        headers = jar(response)
    assert client.get("/read", headers=headers).json == {"k": "w"}
    assert down.ops == []


def test_the_idle_deadline_is_enforced_from_inside_the_cookie(
    client: Any, clock: FakeClock
) -> None:
    headers = jar(client.get("/write", query_string={"k": "v"}))
    clock.advance(timedelta(minutes=31))
    assert client.get("/read", headers=headers).json == {}


def test_cookie_url_serves_sessions() -> None:
    client = build_app("cookie://").test_client(use_cookies=False)
    headers = jar(client.get("/write", query_string={"k": "v"}))
    assert client.get("/read", headers=headers).json == {"k": "v"}
    backend = interface_of(build_app("cookie://")).backend
    assert isinstance(backend, SyncCookieBackend)
    assert backend.revocations is None


def test_cookie_url_with_a_revocation_store(tmp_path: Path) -> None:
    url = "cookie://?revocations=" + quote(f"sqlite:///{tmp_path / 'rev.db'}", safe="")
    app = build_app(url)
    interface = interface_of(app)
    assert interface.cookie_backend is not None
    assert interface.cookie_backend.revocations is not None
    client = app.test_client(use_cookies=False)
    headers = jar(client.post("/login"))
    assert client.get("/whoami", headers=headers).json == {"user": "alice", "new": False}
    interface.cookie_backend.revoke_user("alice")
    assert client.get("/whoami", headers=headers).json == {"user": None, "new": True}


@pytest.mark.parametrize("url", ["cookie://host", "cookie:///path", "cookie://?other=1"])
def test_bad_cookie_urls_are_config_errors(url: str) -> None:
    with pytest.raises(ConfigError, match="cookie"):
        build_app(url)


def test_the_async_backend_is_refused_with_advice() -> None:
    with pytest.raises(ConfigError, match="SyncCookieBackend"):
        build_app(CookieBackend(CONFIG), None)


def test_a_backend_and_a_different_config_are_a_config_error() -> None:
    with pytest.raises(ConfigError, match="both"):
        build_app(SyncCookieBackend(CONFIG), CONFIG.replace(secret="d" * 32))


# -- shared with the ASGI side -------------------------------------------------------


async def asgi_read(request: Request) -> Response:
    request.session["from_asgi"] = True
    return JSONResponse(dict(request.session))


async def asgi_logout(request: Request) -> Response:
    asgi_get_session(request).destroy()
    return PlainTextResponse("ok")


async def asgi_whoami(request: Request) -> Response:
    return JSONResponse({"user": asgi_get_session(request).user_id})


def asgi_client(store: Any, clock: FakeClock) -> httpx.AsyncClient:
    app = Starlette(
        routes=[
            Route("/read", asgi_read),
            Route("/logout", asgi_logout, methods=["POST"]),
            Route("/whoami", asgi_whoami),
        ]
    )
    app.add_middleware(SessionMiddleware, store=store, config=CONFIG, clock=clock)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


async def test_flask_and_asgi_apps_share_cookie_sessions(client: Any, clock: FakeClock) -> None:
    flask_headers = jar(client.get("/write", query_string={"value": "from flask"}))
    async with asgi_client(CookieBackend(CONFIG, clock=clock), clock) as asgi:
        response = await asgi.get("/read", headers={"cookie": flask_headers["Cookie"]})
    assert response.json() == {"value": "from flask", "from_asgi": True}
    set_cookie = response.headers.get_list("set-cookie")
    assert len(set_cookie) == 1
    asgi_cookie = SetCookie.parse(set_cookie[0]).value
    data = client.get("/read", headers={"Cookie": f"session={asgi_cookie}"}).json
    assert data == {"value": "from flask", "from_asgi": True}


async def test_an_asgi_logout_revokes_the_cookie_for_flask_too(
    tmp_path: Path, clock: FakeClock
) -> None:
    url = f"sqlite:///{tmp_path / 'revocations.db'}"
    flask_backend = SyncCookieBackend(CONFIG, revocations=url, clock=clock)
    client = build_app(flask_backend, None).test_client(use_cookies=False)
    phone = jar(client.post("/login"))
    laptop = jar(client.post("/login"))
    async with asgi_client(CookieBackend(CONFIG, revocations=url, clock=clock), clock) as asgi:
        assert (await asgi.get("/whoami", headers=phone)).json() == {"user": "alice"}
        await asgi.post("/logout", headers=phone)
        assert (await asgi.get("/whoami", headers=phone)).json() == {"user": None}
        assert (await asgi.get("/whoami", headers=laptop)).json() == {"user": "alice"}
        clock.advance(1)
        flask_backend.revoke_user("alice")
        assert (await asgi.get("/whoami", headers=laptop)).json() == {"user": None}
    assert client.get("/whoami", headers=phone).json == {"user": None, "new": True}
    assert client.get("/whoami", headers=laptop).json == {"user": None, "new": True}
    flask_backend.close()


# -- revocation ----------------------------------------------------------------------


def test_user_bound_cookie_costs_one_revocation_read(client: Any, spy: SyncSpy) -> None:
    headers = jar(client.post("/login"))
    assert spy.ops == []
    client.get("/whoami", headers=headers)
    assert spy.ops == ["load"]


def test_revoke_user_from_sync_code_logs_out_every_cookie_session(
    client: Any, backend: SyncCookieBackend, clock: FakeClock
) -> None:
    phone = jar(client.post("/login"))
    laptop = jar(client.post("/login"))
    bob = jar(client.post("/login", query_string={"user": "bob"}))
    clock.advance(1)
    backend.revoke_user("alice")
    for headers in (phone, laptop):
        assert client.get("/whoami", headers=headers).json == {"user": None, "new": True}
    assert client.get("/whoami", headers=bob).json["user"] == "bob"
    clock.advance(1)
    again = jar(client.post("/login"))
    assert client.get("/whoami", headers=again).json["user"] == "alice"


def test_revoke_user_without_a_revocation_store_says_what_to_do() -> None:
    with pytest.raises(ConfigError, match="revocations="):
        SyncCookieBackend(CONFIG).revoke_user("alice")


def test_logout_revokes_that_cookie_only(client: Any, spy: SyncSpy) -> None:
    phone = jar(client.post("/login"))
    laptop = jar(client.post("/login"))
    gone = cookie_of(client.post("/logout", headers=phone))
    assert gone is not None
    assert gone.deletes
    assert "create" in spy.ops or "update" in spy.ops
    assert client.get("/whoami", headers=phone).json["user"] is None
    assert client.get("/whoami", headers=laptop).json["user"] == "alice"


def test_regenerate_revokes_the_old_cookie_of_a_user(client: Any) -> None:
    first = jar(client.post("/login"))
    second = jar(client.post("/login", headers=first))
    assert client.get("/whoami", headers=first).json["user"] is None
    assert client.get("/whoami", headers=second).json["user"] == "alice"


def test_revocation_records_are_those_of_the_async_backend(
    client: Any, spy: SyncSpy, clock: FakeClock
) -> None:
    client.post("/logout", headers=jar(client.post("/login")))
    record = spy.inner.load(revocation_key("alice"))
    assert record is not None
    assert [name[:2] for name in record.data] == ["s:"]
    assert record.expires_at == clock() + CONFIG.absolute_timeout.total_seconds()


def test_revoked_ids_per_user_stay_bounded(client: Any, spy: SyncSpy, clock: FakeClock) -> None:
    for _ in range(80):
        client.post("/logout", headers=jar(client.post("/login")))
        clock.advance(0.01)
    record = spy.inner.load(revocation_key("alice"))
    assert record is not None
    assert len(record.data) <= 66
    fresh = jar(client.post("/login"))
    assert client.get("/whoami", headers=fresh).json["user"] == "alice"


# -- errors --------------------------------------------------------------------------


def test_a_cookie_past_4096_bytes_answers_413_not_a_dropped_cookie(client: Any) -> None:
    fits = client.get("/big", query_string={"n": "2500"})
    cookie = cookie_of(fits)
    assert cookie is not None
    assert len(cookie.name) + len(cookie.value) <= MAX_COOKIE_BYTES
    response = client.get("/big", query_string={"n": "3500"})
    assert response.status_code == 413
    assert "Set-Cookie" not in response.headers
    assert b"never sent" not in response.data


def test_a_failing_revocation_store_answers_503_on_load(client: Any, spy: SyncSpy) -> None:
    headers = jar(client.post("/login"))
    spy.failing = EVERY_OP
    response = client.get("/whoami", headers=headers)
    assert response.status_code == 503
    assert "Set-Cookie" not in response.headers


def test_a_failing_revocation_store_answers_503_on_logout(client: Any, spy: SyncSpy) -> None:
    headers = jar(client.post("/login"))
    spy.failing = frozenset({"create", "update"})
    response = client.post("/logout", headers=headers)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"
    assert "Set-Cookie" not in response.headers  # the cookie is not dropped unrevoked
    assert spy.ops[-1] == "create"


def test_a_closed_sqlite_revocation_store_answers_503(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'rev.db'}")
    client = build_app(SyncCookieBackend(CONFIG, revocations=store), None).test_client(
        use_cookies=False
    )
    headers = jar(client.post("/login"))
    store.close()
    assert client.get("/whoami", headers=headers).status_code == 503
    assert client.get("/write", query_string={"k": "v"}).status_code == 200  # anonymous
