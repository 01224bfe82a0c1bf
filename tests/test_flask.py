"""The Flask integration: flask.session on a websession store, shared with ASGI apps."""

from __future__ import annotations

import collections
import enum
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import flask
import httpx
import pytest
from markupsafe import Markup
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.conftest import store_url
from websession import (
    ConfigError,
    SessionConfig,
    SessionMiddleware,
    SetCookie,
    open_async_store,
    open_store,
)
from websession.integrations.asgi import get_session as get_asgi_session
from websession.integrations.flask import get_session, init_app
from websession.stores.base import Store
from websession.stores.memory import MemoryStore

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


# -- a drop-in for Flask's session ---------------------------------------------------------


def test_flask_tagged_values_round_trip_across_requests(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'tagged.db'}"
    app = flask.Flask(__name__)
    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    the_uuid = uuid.uuid4()

    @app.get("/set")
    def set_values() -> str:
        flask.session.update(t=(1, (2, 3)), b=b"\xff", m=Markup("<em>x</em>"), u=the_uuid, d=when)
        flask.session["plain"] = {" t": "not-a-tuple"}
        return "ok"

    @app.get("/get")
    def get_values() -> str:
        s = flask.session
        assert s["t"] == (1, (2, 3))
        assert s["b"] == b"\xff"
        assert type(s["m"]) is Markup
        assert s["m"] == Markup("<em>x</em>")
        assert s["u"] == the_uuid
        assert s["d"] == when
        assert s["plain"] == {" t": "not-a-tuple"}
        return flask.render_template_string("{{ session['m'] }}")

    init_app(app, url, CONFIG)
    client = app.test_client()
    client.get("/set")
    assert client.get("/get").text == "<em>x</em>"  # Markup stays unescaped


async def test_flask_tagged_values_are_plain_json_for_asgi_apps(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    app = flask.Flask(__name__)

    @app.get("/set")
    def set_values() -> str:
        flask.session["t"] = (1, 2)
        flask.flash(Markup("<b>saved</b>"), "info")
        return "ok"

    init_app(app, url, CONFIG)
    value = cookie_of(app.test_client(use_cookies=False).get("/set"))

    async def asgi_read(request: Request) -> Response:
        flashes = get_asgi_session(request).pop_flashes()
        return JSONResponse({"t": request.session["t"], "flashes": flashes})

    asgi = Starlette(routes=[Route("/read", asgi_read)])
    store = open_async_store(url)
    asgi.add_middleware(SessionMiddleware, store=store, config=CONFIG)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=asgi), base_url="http://testserver"
    ) as client:
        response = await client.get("/read", headers={"cookie": f"session={value}"})
    await store.close()
    assert response.json() == {"t": {" t": [1, 2]}, "flashes": [["info", "<b>saved</b>"]]}


def test_json_type_subclasses_are_accepted_in_flask(client: Any) -> None:
    app: flask.Flask = client.application

    class Color(enum.StrEnum):
        RED = "red"

    class Level(enum.IntEnum):
        LOW = 1
        HIGH = 2

    @app.get("/subclasses")
    def subclasses() -> str:
        flask.session["c"] = Color.RED
        flask.session["i"] = Level.HIGH
        flask.session["o"] = collections.OrderedDict(a=1)
        flask.session["d"] = collections.defaultdict(list, k=[1])
        return "ok"

    value = cookie_of(client.get("/subclasses"))
    data = client.get("/all", headers={"Cookie": f"session={value}"}).json
    assert data == {"c": "red", "i": 2, "o": {"a": 1}, "d": {"k": [1]}}


def test_modified_false_skips_the_save(client: Any, store: CountingStore) -> None:
    app: flask.Flask = client.application

    @app.get("/discard")
    def discard() -> str:
        flask.session["value"] = "discarded"
        flask.session.modified = False
        return "ok"

    value = cookie_of(client.get("/write", query_string={"v": "kept"}))
    headers = {"Cookie": f"session={value}"}
    response = client.get("/discard", headers=headers)
    assert "Set-Cookie" not in response.headers
    assert store.ops == ["create", "load"]
    assert client.get("/read", headers=headers).json == {"value": "kept"}


def test_flask_clear_logs_out_server_side(client: Any, store: CountingStore) -> None:
    app: flask.Flask = client.application

    @app.post("/clear")
    def clear() -> str:
        flask.session.clear()
        return "ok"

    value = cookie_of(client.get("/write", query_string={"v": "x"}))
    response = client.post("/clear", headers={"Cookie": f"session={value}"})
    assert SetCookie.parse(response.headers["Set-Cookie"]).deletes
    assert store.ops[-1] == "delete"
    assert client.get("/read", headers={"Cookie": f"session={value}"}).json == {"value": None}


def flask_app_with(**settings: Any) -> flask.Flask:
    app = flask.Flask(__name__)
    app.config.update(settings)

    @app.get("/write")
    def write() -> str:
        flask.session["value"] = "x"
        return "ok"

    return app


def test_init_app_reads_flasks_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WEBSESSION_SECRET", raising=False)
    app = flask_app_with(SECRET_KEY="k" * 32, SESSION_COOKIE_NAME="sid", SESSION_COOKIE_SECURE=True)
    interface = init_app(app, MemoryStore())
    assert interface.config.cookie_name == "sid"
    assert interface.config.secure
    assert not interface.config.permanent
    cookie = SetCookie.parse(app.test_client().get("/write").headers["Set-Cookie"])
    assert cookie.name == "sid"
    assert cookie.max_age is None  # Flask's sessions are browser sessions until permanent


def test_an_explicit_config_wins_over_flasks_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WEBSESSION_SECRET", raising=False)
    app = flask_app_with(SECRET_KEY="short", SESSION_COOKIE_NAME="sid")
    assert init_app(app, MemoryStore(), CONFIG).config is CONFIG


def test_websession_environment_wins_over_flasks_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("WEBSESSION_SECRET", "e" * 32)
    app = flask_app_with(SECRET_KEY="k" * 32, SESSION_COOKIE_NAME="sid")
    assert init_app(app, MemoryStore()).config.cookie_name == "session"


def test_a_short_flask_secret_key_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WEBSESSION_SECRET", raising=False)
    with pytest.raises(ConfigError, match=r"SECRET_KEY is 3 bytes.*at least 32 bytes"):
        init_app(flask_app_with(SECRET_KEY="dev"), MemoryStore())


def test_init_app_again_rereads_and_installs_its_hook_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("WEBSESSION_SECRET", raising=False)
    app = flask_app_with(SECRET_KEY="k" * 32)
    init_app(app, MemoryStore())
    app.config["SESSION_COOKIE_NAME"] = "sid"
    assert init_app(app, MemoryStore()).config.cookie_name == "sid"
    assert len(app.before_request_funcs[None]) == 1


class _TagInt(flask.json.tag.JSONTag):
    """A custom tag that claims plain ints (as an application could register)."""

    key = " int"

    def check(self, value: Any) -> bool:
        return type(value) is int

    def to_json(self, value: Any) -> Any:
        return str(value)

    def to_python(self, value: Any) -> Any:
        return int(value)


def test_a_custom_tag_on_flasks_serializer_applies_to_plain_values(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from flask.sessions import session_json_serializer

    from websession.integrations.flask import FlaskSession

    session = FlaskSession()
    assert session.to_stored("n", 5) == 5
    tag = _TagInt(session_json_serializer)
    monkeypatch.setattr(session_json_serializer, "order", [tag, *session_json_serializer.order])
    monkeypatch.setitem(session_json_serializer.tags, tag.key, tag)
    assert session.to_stored("n", 5) == {" int": "5"}


def test_a_session_class_with_its_own_serializer_tags_plain_values() -> None:
    from flask.json.tag import TaggedJSONSerializer

    from websession.integrations.flask import FlaskSession

    class Tagged(FlaskSession):
        serializer = TaggedJSONSerializer()

    Tagged.serializer.register(_TagInt, index=0)
    assert Tagged().to_stored("n", 5) == {" int": "5"}
    assert Tagged().to_stored("s", "text") == "text"


def test_vary_cookie_is_merged_into_the_apps_own_vary_header(tmp_path: Path) -> None:
    app = flask.Flask("t")
    init_app(app, store=f"sqlite:///{tmp_path / 's.db'}", config=CONFIG)

    @app.get("/")
    def index() -> flask.Response:
        flask.session.get("x")
        response = flask.make_response("ok")
        response.headers["Vary"] = "Accept-Encoding"
        return response

    @app.get("/plain")
    def plain() -> str:
        flask.session.get("x")
        return "ok"

    client = app.test_client()
    assert client.get("/").headers.getlist("Vary") == ["Accept-Encoding, Cookie"]
    assert client.get("/plain").headers.getlist("Vary") == ["Cookie"]
