# mypy: disable-error-code="union-attr"
# ruff: noqa: PT012, PT018, RUF043, RUF061, SIM117
# (upstream's own style is kept: request_ctx._session is Optional, nested with blocks)
#
# Ported from Flask 3.1.3 (https://github.com/pallets/flask): the session and flashing
# tests of tests/test_basic.py, the session_transaction tests of tests/test_testing.py
# and the fixtures of tests/conftest.py, run against websession's Flask integration.
#
# Copyright 2010 Pallets
#
# Redistribution and use in source and binary forms, with or without modification, are
# permitted provided that the following conditions are met:
#
# 1. Redistributions of source code must retain the above copyright notice, this list
#    of conditions and the following disclaimer.
# 2. Redistributions in binary form must reproduce the above copyright notice, this list
#    of conditions and the following disclaimer in the documentation and/or other
#    materials provided with the distribution.
# 3. Neither the name of the copyright holder nor the names of its contributors may be
#    used to endorse or promote products derived from this software without specific
#    prior written permission.
#
# THIS SOFTWARE IS PROVIDED BY THE COPYRIGHT HOLDERS AND CONTRIBUTORS "AS IS" AND ANY
# EXPRESS OR IMPLIED WARRANTIES, INCLUDING, BUT NOT LIMITED TO, THE IMPLIED WARRANTIES
# OF MERCHANTABILITY AND FITNESS FOR A PARTICULAR PURPOSE ARE DISCLAIMED. IN NO EVENT
# SHALL THE COPYRIGHT HOLDER OR CONTRIBUTORS BE LIABLE FOR ANY DIRECT, INDIRECT,
# INCIDENTAL, SPECIAL, EXEMPLARY, OR CONSEQUENTIAL DAMAGES (INCLUDING, BUT NOT LIMITED
# TO, PROCUREMENT OF SUBSTITUTE GOODS OR SERVICES; LOSS OF USE, DATA, OR PROFITS; OR
# BUSINESS INTERRUPTION) HOWEVER CAUSED AND ON ANY THEORY OF LIABILITY, WHETHER IN
# CONTRACT, STRICT LIABILITY, OR TORT (INCLUDING NEGLIGENCE OR OTHERWISE) ARISING IN ANY
# WAY OUT OF THE USE OF THIS SOFTWARE, EVEN IF ADVISED OF THE POSSIBILITY OF SUCH DAMAGE.
"""Flask's own session tests, run against websession's Flask integration.

What changed in the port, and why (the assertions are Flask's):

- The ``app`` fixture installs websession (``init_app(app, store)``, one memory store
  per test) and signs with a 32-byte ``SECRET_KEY``: websession refuses shorter ones.
- websession reads Flask's settings when ``init_app`` runs, not on every request: where
  a test changes ``app.config`` (or ``secret_key``), it calls ``reinit(app)`` after the
  change, which re-reads them (same store, so sessions survive).
- Type annotations were added (this suite runs mypy --strict).
- Tests that cannot hold by design are skipped with the reason; each is followed by
  its websession twin, which differs only in the assertion that cannot hold.
"""

from __future__ import annotations

import os
import re
import typing as t
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import flask
import pytest
from flask.globals import request_ctx
from flask.testing import FlaskClient
from markupsafe import Markup
from werkzeug.http import parse_date

from websession import ConfigError
from websession.integrations.flask import WebsessionInterface, init_app
from websession.stores.memory import MemoryStore

SECRET = "test key of at least thirty-two bytes"


def key(name: str) -> str:
    """Flask's short test keys ("0 key"), made long enough for websession."""
    return f"{name:*<32}"


def reinit(app: flask.Flask) -> None:
    """Re-read the app's settings (websession reads them in init_app), same store."""
    interface = app.session_interface
    assert isinstance(interface, WebsessionInterface)
    init_app(app, interface.backend.store)  # type: ignore[attr-defined]  # a StoreBackend


@pytest.fixture
def app() -> flask.Flask:
    app = flask.Flask("flask_test", root_path=os.path.dirname(__file__))
    app.config.update(
        TESTING=True,
        SECRET_KEY=SECRET,
    )
    init_app(app, MemoryStore())
    return app


@pytest.fixture
def app_ctx(app: flask.Flask) -> Iterator[t.Any]:
    with app.app_context() as ctx:
        yield ctx


@pytest.fixture
def req_ctx(app: flask.Flask) -> Iterator[t.Any]:
    with app.test_request_context() as ctx:
        yield ctx


@pytest.fixture
def client(app: flask.Flask) -> FlaskClient:
    return app.test_client()


# -- tests/test_basic.py ---------------------------------------------------------------


def test_session_accessed(app: flask.Flask, client: FlaskClient) -> None:
    @app.post("/")
    def do_set() -> str:
        flask.session["value"] = flask.request.form["value"]
        return "value set"

    @app.get("/")
    def do_get() -> str:
        return str(flask.session.get("value", "None"))

    @app.get("/nothing")
    def do_nothing() -> str:
        return ""

    with client:
        rv = client.get("/nothing")
        assert "cookie" not in rv.vary
        assert not request_ctx._session.accessed
        assert not request_ctx._session.modified

    with client:
        rv = client.post(data={"value": "42"})
        assert rv.text == "value set"
        assert "cookie" in rv.vary
        assert request_ctx._session.accessed
        assert request_ctx._session.modified

    with client:
        rv = client.get()
        assert rv.text == "42"
        assert "cookie" in rv.vary
        assert request_ctx._session.accessed
        assert not request_ctx._session.modified

    with client:
        rv = client.get("/nothing")
        assert rv.text == ""
        assert "cookie" not in rv.vary
        assert not request_ctx._session.accessed
        assert not request_ctx._session.modified


def test_session_path(app: flask.Flask, client: FlaskClient) -> None:
    app.config.update(APPLICATION_ROOT="/foo")
    reinit(app)

    @app.route("/")
    def index() -> str:
        flask.session["testing"] = 42
        return "Hello World"

    rv = client.get("/", "http://example.com:8080/foo")
    assert "path=/foo" in rv.headers["set-cookie"].lower()


def test_session_using_application_root(app: flask.Flask, client: FlaskClient) -> None:
    class PrefixPathMiddleware:
        def __init__(self, app: t.Any, prefix: str) -> None:
            self.app = app
            self.prefix = prefix

        def __call__(self, environ: t.Any, start_response: t.Any) -> t.Any:
            environ["SCRIPT_NAME"] = self.prefix
            return self.app(environ, start_response)

    app.wsgi_app = PrefixPathMiddleware(app.wsgi_app, "/bar")  # type: ignore[method-assign]
    app.config.update(APPLICATION_ROOT="/bar")
    reinit(app)

    @app.route("/")
    def index() -> str:
        flask.session["testing"] = 42
        return "Hello World"

    rv = client.get("/", "http://example.com:8080/")
    assert "path=/bar" in rv.headers["set-cookie"].lower()


def test_session_using_session_settings(app: flask.Flask, client: FlaskClient) -> None:
    app.config.update(
        SERVER_NAME="www.example.com:8080",
        APPLICATION_ROOT="/test",
        SESSION_COOKIE_DOMAIN=".example.com",
        SESSION_COOKIE_HTTPONLY=False,
        SESSION_COOKIE_SECURE=True,
        SESSION_COOKIE_PARTITIONED=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_PATH="/",
    )
    reinit(app)

    @app.route("/")
    def index() -> str:
        flask.session["testing"] = 42
        return "Hello World"

    @app.route("/clear")
    def clear() -> str:
        flask.session.pop("testing", None)
        return "Goodbye World"

    rv = client.get("/", "http://www.example.com:8080/test/")
    cookie = rv.headers["set-cookie"].lower()
    # or condition for Werkzeug < 2.3
    assert "domain=example.com" in cookie or "domain=.example.com" in cookie
    assert "path=/" in cookie
    assert "secure" in cookie
    assert "httponly" not in cookie
    assert "samesite" in cookie
    assert "partitioned" in cookie

    rv = client.get("/clear", "http://www.example.com:8080/test/")
    cookie = rv.headers["set-cookie"].lower()
    assert "session=;" in cookie
    # or condition for Werkzeug < 2.3
    assert "domain=example.com" in cookie or "domain=.example.com" in cookie
    assert "path=/" in cookie
    assert "secure" in cookie
    assert "samesite" in cookie
    assert "partitioned" in cookie


@pytest.mark.skip(
    reason="by design: websession always sends SameSite; SESSION_COOKIE_SAMESITE=None "
    "means Lax (what browsers assume without it). The twin below asserts samesite=lax"
)
def test_session_using_samesite_attribute(app: flask.Flask, client: FlaskClient) -> None:
    @app.route("/")
    def index() -> str:
        flask.session["testing"] = 42
        return "Hello World"

    app.config.update(SESSION_COOKIE_SAMESITE="invalid")

    with pytest.raises(ValueError):
        reinit(app)
        client.get("/")

    app.config.update(SESSION_COOKIE_SAMESITE=None)
    reinit(app)
    rv = client.get("/")
    cookie = rv.headers["set-cookie"].lower()
    assert "samesite" not in cookie

    app.config.update(SESSION_COOKIE_SAMESITE="Strict")
    reinit(app)
    rv = client.get("/")
    cookie = rv.headers["set-cookie"].lower()
    assert "samesite=strict" in cookie

    app.config.update(SESSION_COOKIE_SAMESITE="Lax")
    reinit(app)
    rv = client.get("/")
    cookie = rv.headers["set-cookie"].lower()
    assert "samesite=lax" in cookie


def test_session_using_samesite_attribute_always_sent(
    app: flask.Flask, client: FlaskClient
) -> None:
    @app.route("/")
    def index() -> str:
        flask.session["testing"] = 42
        return "Hello World"

    app.config.update(SESSION_COOKIE_SAMESITE="invalid")

    with pytest.raises(ValueError):
        reinit(app)
        client.get("/")

    app.config.update(SESSION_COOKIE_SAMESITE=None)
    reinit(app)
    rv = client.get("/")
    cookie = rv.headers["set-cookie"].lower()
    assert "samesite=lax" in cookie

    app.config.update(SESSION_COOKIE_SAMESITE="Strict")
    reinit(app)
    rv = client.get("/")
    cookie = rv.headers["set-cookie"].lower()
    assert "samesite=strict" in cookie

    app.config.update(SESSION_COOKIE_SAMESITE="Lax")
    reinit(app)
    rv = client.get("/")
    cookie = rv.headers["set-cookie"].lower()
    assert "samesite=lax" in cookie


@pytest.mark.skip(
    reason="by design: without a secret websession does not start (init_app raises "
    "ConfigError) instead of serving a null session that fails on first write; the "
    "twin below asserts the error"
)
def test_missing_session(app: flask.Flask) -> None:
    app.secret_key = None

    def expect_exception(f: t.Any, *args: t.Any, **kwargs: t.Any) -> None:
        e = pytest.raises(RuntimeError, f, *args, **kwargs)
        assert e.value.args and "session is unavailable" in e.value.args[0]

    with app.test_request_context():
        assert flask.session.get("missing_key") is None
        expect_exception(flask.session.__setitem__, "foo", 42)
        expect_exception(flask.session.pop, "foo")


def test_missing_secret_key_is_refused_at_init(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WEBSESSION_SECRET", raising=False)
    app = flask.Flask("flask_test")
    app.secret_key = None
    with pytest.raises(ConfigError, match="SECRET_KEY is not set"):
        init_app(app, MemoryStore())


def test_session_secret_key_fallbacks(app: flask.Flask, client: FlaskClient) -> None:
    @app.post("/")
    def set_session() -> str:
        flask.session["a"] = 1
        return ""

    @app.get("/")
    def get_session() -> dict[str, t.Any]:
        return dict(flask.session)

    # Set session with initial secret key, and two valid expiring keys
    app.secret_key, app.config["SECRET_KEY_FALLBACKS"] = (
        key("0 key"),
        [key("-1 key"), key("-2 key")],
    )
    reinit(app)
    client.post()
    assert client.get().json == {"a": 1}
    # Change secret key, session can't be loaded and appears empty
    app.secret_key = key("? key")
    reinit(app)
    assert client.get().json == {}
    # Rotate the valid keys, session can be loaded
    app.secret_key, app.config["SECRET_KEY_FALLBACKS"] = (
        key("+1 key"),
        [key("0 key"), key("-1 key")],
    )
    reinit(app)
    assert client.get().json == {"a": 1}


@pytest.mark.skip(
    reason="by design: websession's cookie carries Max-Age, not Expires (RFC 6265 "
    "§5.3: Max-Age wins, and it does not depend on the client's clock); the twin below "
    "asserts the same lifetime through Max-Age"
)
def test_session_expiration(app: flask.Flask, client: FlaskClient) -> None:
    permanent = True

    @app.route("/")
    def index() -> str:
        flask.session["test"] = 42
        flask.session.permanent = permanent
        return ""

    @app.route("/test")
    def test() -> str:
        return str(flask.session.permanent)

    rv = client.get("/")
    assert "set-cookie" in rv.headers
    match = re.search(r"(?i)\bexpires=([^;]+)", rv.headers["set-cookie"])
    assert match is not None
    expires = parse_date(match.group())
    assert expires is not None
    expected = datetime.now(UTC) + app.permanent_session_lifetime
    assert expires.year == expected.year
    assert expires.month == expected.month
    assert expires.day == expected.day

    rv = client.get("/test")
    assert rv.data == b"True"

    permanent = False
    rv = client.get("/")
    assert "set-cookie" in rv.headers
    match = re.search(r"\bexpires=([^;]+)", rv.headers["set-cookie"])
    assert match is None


def test_session_expiration_by_max_age(app: flask.Flask, client: FlaskClient) -> None:
    permanent = True

    @app.route("/")
    def index() -> str:
        flask.session["test"] = 42
        flask.session.permanent = permanent
        return ""

    @app.route("/test")
    def test() -> str:
        return str(flask.session.permanent)

    rv = client.get("/")
    assert "set-cookie" in rv.headers
    match = re.search(r"(?i)\bmax-age=([^;]+)", rv.headers["set-cookie"])
    assert match is not None
    assert int(match[1]) == app.permanent_session_lifetime.total_seconds()

    rv = client.get("/test")
    assert rv.data == b"True"

    permanent = False
    rv = client.get("/")
    assert "set-cookie" in rv.headers
    match = re.search(r"(?i)\b(max-age|expires)=([^;]+)", rv.headers["set-cookie"])
    assert match is None


def test_session_stored_last(app: flask.Flask, client: FlaskClient) -> None:
    @app.after_request
    def modify_session(response: flask.Response) -> flask.Response:
        flask.session["foo"] = 42
        return response

    @app.route("/")
    def dump_session_contents() -> str:
        return repr(flask.session.get("foo"))

    assert client.get("/").data == b"None"
    assert client.get("/").data == b"42"


def test_session_special_types(app: flask.Flask, client: FlaskClient) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    the_uuid = uuid.uuid4()

    @app.route("/")
    def dump_session_contents() -> tuple[str, int]:
        flask.session["t"] = (1, 2, 3)
        flask.session["b"] = b"\xff"
        flask.session["m"] = Markup("<html>")
        flask.session["u"] = the_uuid
        flask.session["d"] = now
        flask.session["t_tag"] = {" t": "not-a-tuple"}
        flask.session["di_t_tag"] = {" t__": "not-a-tuple"}
        flask.session["di_tag"] = {" di": "not-a-dict"}
        return "", 204

    with client:
        client.get("/")
        s = flask.session
        assert s["t"] == (1, 2, 3)
        assert type(s["b"]) is bytes
        assert s["b"] == b"\xff"
        assert type(s["m"]) is Markup
        assert s["m"] == Markup("<html>")
        assert s["u"] == the_uuid
        assert s["d"] == now
        assert s["t_tag"] == {" t": "not-a-tuple"}
        assert s["di_t_tag"] == {" t__": "not-a-tuple"}
        assert s["di_tag"] == {" di": "not-a-dict"}


def test_session_cookie_setting(app: flask.Flask) -> None:
    is_permanent = True

    @app.route("/bump")
    def bump() -> str:
        rv = flask.session["foo"] = flask.session.get("foo", 0) + 1
        flask.session.permanent = is_permanent
        return str(rv)

    @app.route("/read")
    def read() -> str:
        return str(flask.session.get("foo", 0))

    def run_test(expect_header: bool) -> None:
        with app.test_client() as c:
            assert c.get("/bump").data == b"1"
            assert c.get("/bump").data == b"2"
            assert c.get("/bump").data == b"3"

            rv = c.get("/read")
            set_cookie = rv.headers.get("set-cookie")
            assert (set_cookie is not None) == expect_header
            assert rv.data == b"3"

    is_permanent = True
    app.config["SESSION_REFRESH_EACH_REQUEST"] = True
    reinit(app)
    run_test(expect_header=True)

    is_permanent = True
    app.config["SESSION_REFRESH_EACH_REQUEST"] = False
    reinit(app)
    run_test(expect_header=False)

    is_permanent = False
    app.config["SESSION_REFRESH_EACH_REQUEST"] = True
    reinit(app)
    run_test(expect_header=False)

    is_permanent = False
    app.config["SESSION_REFRESH_EACH_REQUEST"] = False
    reinit(app)
    run_test(expect_header=False)


def test_session_vary_cookie(app: flask.Flask, client: FlaskClient) -> None:
    @app.route("/set")
    def set_session() -> str:
        flask.session["test"] = "test"
        return ""

    @app.route("/get")
    def get() -> str:
        return t.cast(str, flask.session.get("test"))

    @app.route("/getitem")
    def getitem() -> str:
        return t.cast(str, flask.session["test"])

    @app.route("/setdefault")
    def setdefault() -> str:
        return t.cast(str, flask.session.setdefault("test", "default"))

    @app.route("/clear")
    def clear() -> str:
        flask.session.clear()
        return ""

    @app.route("/vary-cookie-header-set")
    def vary_cookie_header_set() -> t.Any:
        response = flask.Response()
        response.vary.add("Cookie")
        flask.session["test"] = "test"
        return response

    @app.route("/vary-header-set")
    def vary_header_set() -> t.Any:
        response = flask.Response()
        response.vary.update(("Accept-Encoding", "Accept-Language"))
        flask.session["test"] = "test"
        return response

    @app.route("/no-vary-header")
    def no_vary_header() -> str:
        return ""

    def expect(path: str, header_value: str | None = "Cookie") -> None:
        rv = client.get(path)

        if header_value:
            # The 'Vary' key should exist in the headers only once.
            assert len(rv.headers.get_all("Vary")) == 1
            assert rv.headers["Vary"] == header_value
        else:
            assert "Vary" not in rv.headers

    expect("/set")
    expect("/get")
    expect("/getitem")
    expect("/setdefault")
    expect("/clear")
    expect("/vary-cookie-header-set")
    expect("/vary-header-set", "Accept-Encoding, Accept-Language, Cookie")
    expect("/no-vary-header", None)


def test_session_refresh_vary(app: flask.Flask, client: FlaskClient) -> None:
    @app.get("/login")
    def login() -> str:
        flask.session["user_id"] = 1
        flask.session.permanent = True
        return ""

    @app.get("/ignored")
    def ignored() -> str:
        return ""

    rv = client.get("/login")
    assert rv.headers["Vary"] == "Cookie"
    rv = client.get("/ignored")
    assert rv.headers["Vary"] == "Cookie"


def test_flashes(app: flask.Flask, req_ctx: t.Any) -> None:
    assert not flask.session.modified
    flask.flash("Zap")
    flask.session.modified = False
    flask.flash("Zip")
    assert flask.session.modified
    assert list(flask.get_flashed_messages()) == ["Zap", "Zip"]


def test_extended_flashing(app: flask.Flask) -> None:
    # Be sure app.testing=True below, else tests can fail silently.
    #
    # Specifically, if app.testing is not set to True, the AssertionErrors
    # in the view functions will cause a 500 response to the test client
    # instead of propagating exceptions.

    @app.route("/")
    def index() -> str:
        flask.flash("Hello World")
        flask.flash("Hello World", "error")
        flask.flash(Markup("<em>Testing</em>"), "warning")
        return ""

    @app.route("/test/")
    def test() -> str:
        messages = flask.get_flashed_messages()
        assert list(messages) == [
            "Hello World",
            "Hello World",
            Markup("<em>Testing</em>"),
        ]
        return ""

    @app.route("/test_with_categories/")
    def test_with_categories() -> str:
        messages = flask.get_flashed_messages(with_categories=True)
        assert len(messages) == 3
        assert list(messages) == [
            ("message", "Hello World"),
            ("error", "Hello World"),
            ("warning", Markup("<em>Testing</em>")),
        ]
        return ""

    @app.route("/test_filter/")
    def test_filter() -> str:
        messages = flask.get_flashed_messages(category_filter=["message"], with_categories=True)
        assert list(messages) == [("message", "Hello World")]
        return ""

    @app.route("/test_filters/")
    def test_filters() -> str:
        messages = flask.get_flashed_messages(
            category_filter=["message", "warning"], with_categories=True
        )
        assert list(messages) == [
            ("message", "Hello World"),
            ("warning", Markup("<em>Testing</em>")),
        ]
        return ""

    @app.route("/test_filters_without_returning_categories/")
    def test_filters2() -> str:
        messages = flask.get_flashed_messages(category_filter=["message", "warning"])
        assert len(messages) == 2
        assert messages[0] == "Hello World"
        assert messages[1] == Markup("<em>Testing</em>")
        return ""

    # Create new test client on each test to clean flashed messages.

    client = app.test_client()
    client.get("/")
    client.get("/test_with_categories/")

    client = app.test_client()
    client.get("/")
    client.get("/test_filter/")

    client = app.test_client()
    client.get("/")
    client.get("/test_filters/")

    client = app.test_client()
    client.get("/")
    client.get("/test_filters_without_returning_categories/")


# -- tests/test_testing.py -------------------------------------------------------------


def test_redirect_session(app: flask.Flask, client: FlaskClient, app_ctx: t.Any) -> None:
    @app.route("/redirect")
    def index() -> t.Any:
        flask.session["redirect"] = True
        return flask.redirect("/target")

    @app.route("/target")
    def get_session() -> str:
        flask.session["target"] = True
        return ""

    with client:
        client.get("/redirect", follow_redirects=True)
        assert flask.session["redirect"] is True
        assert flask.session["target"] is True


def test_session_transactions(app: flask.Flask, client: FlaskClient) -> None:
    @app.route("/")
    def index() -> str:
        return str(flask.session["foo"])

    with client:
        with client.session_transaction() as sess:
            assert len(sess) == 0
            sess["foo"] = [42]
            assert len(sess) == 1
        rv = client.get("/")
        assert rv.data == b"[42]"
        with client.session_transaction() as sess:
            assert len(sess) == 1
            assert sess["foo"] == [42]


def test_session_transactions_no_null_sessions() -> None:
    app = flask.Flask(__name__)
    # Port: Flask's app has no secret, so its own interface opens no session;
    # websession opens none for an excluded path.
    app.config["SECRET_KEY"] = SECRET
    init_app(app, MemoryStore(), exclude_paths=("/",))

    with app.test_client() as c:
        with pytest.raises(RuntimeError) as e:
            with c.session_transaction():
                pass
        assert "Session backend did not open a session" in str(e.value)


def test_session_transactions_keep_context(
    app: flask.Flask, client: FlaskClient, req_ctx: t.Any
) -> None:
    client.get("/")
    req = flask.request._get_current_object()  # type: ignore[attr-defined]
    assert req is not None
    with client.session_transaction():
        assert req is flask.request._get_current_object()  # type: ignore[attr-defined]


def test_session_transaction_needs_cookies(app: flask.Flask) -> None:
    c = app.test_client(use_cookies=False)

    with pytest.raises(TypeError, match="Cookies are disabled."):
        with c.session_transaction():
            pass
