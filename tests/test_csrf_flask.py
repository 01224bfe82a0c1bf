"""CSRF in the Flask integration: the same policy and tokens as the ASGI middleware."""

from __future__ import annotations

import logging
from typing import Any

import flask
import pytest

from websession import SessionConfig, SetCookie
from websession.integrations.flask import csrf_exempt, csrf_token, get_session, init_app, init_csrf
from websession.stores.memory import MemoryStore

CONFIG = SessionConfig(secret="k" * 32, secure=False)


def build_app() -> flask.Flask:
    app = flask.Flask(__name__)

    @app.get("/token")
    def token() -> dict[str, str]:
        return {"token": csrf_token()}

    @app.get("/form")
    def form() -> str:
        return flask.render_template_string(
            '<input type="hidden" name="_csrf" value="{{ csrf_token() }}">'
        )

    @app.post("/submit")
    def submit() -> dict[str, Any]:
        return {"form": dict(flask.request.form)}

    @app.post("/login")
    def login() -> dict[str, str]:
        session = get_session()
        session.regenerate()
        session.user_id = "alice"
        return {"token": csrf_token()}

    @app.post("/hook")
    @csrf_exempt
    def hook() -> str:
        return "hooked"

    init_app(app, MemoryStore(), CONFIG)
    init_csrf(app, trusted_origins=["https://admin.example"])
    return app


@pytest.fixture
def client() -> Any:
    return build_app().test_client()


def session_with_token(client: Any) -> tuple[str, str]:
    response = client.get("/token")
    cookie = SetCookie.parse(response.headers["Set-Cookie"])
    client.set_cookie("session", cookie.value)
    return cookie.value, response.get_json()["token"]


def test_safe_requests_pass(client: Any) -> None:
    assert client.get("/form", headers={"Sec-Fetch-Site": "cross-site"}).status_code == 200


def test_unsafe_request_without_anything_is_refused(client: Any) -> None:
    response = client.post("/submit", data={"a": "1"})
    assert response.status_code == 403
    assert "missing" in response.get_data(as_text=True)


def test_token_in_the_form_passes_and_the_form_reaches_the_view(client: Any) -> None:
    _, token = session_with_token(client)
    response = client.post("/submit", data={"a": "1", "_csrf": token})
    assert response.status_code == 200
    assert response.get_json()["form"] == {"a": "1", "_csrf": token}


def test_token_in_the_header_passes(client: Any) -> None:
    _, token = session_with_token(client)
    assert client.post("/submit", headers={"X-CSRF-Token": token}).status_code == 200


def test_token_of_another_session_is_refused(client: Any) -> None:
    _, other = session_with_token(build_app().test_client())
    session_with_token(client)
    response = client.post("/submit", headers={"X-CSRF-Token": other, "Accept": "application/json"})
    assert response.status_code == 403
    assert response.get_json()["error"]["reason"] == "token_invalid"


def test_origin_and_fetch_metadata_decide_first(client: Any) -> None:
    _, token = session_with_token(client)
    evil = {"Origin": "https://evil.example", "X-CSRF-Token": token}
    assert client.post("/submit", headers=evil).status_code == 403
    assert client.post("/submit", headers={"Origin": "http://localhost"}).status_code == 200
    assert client.post("/submit", headers={"Sec-Fetch-Site": "same-origin"}).status_code == 200
    trusted = {"Origin": "https://admin.example", "Sec-Fetch-Site": "cross-site"}
    assert client.post("/submit", headers=trusted).status_code == 200


def test_exempt_view_skips_the_check(client: Any) -> None:
    assert client.post("/hook", headers={"Origin": "https://evil.example"}).status_code == 200


def test_template_global_renders_a_fresh_token_each_time(client: Any) -> None:
    session_with_token(client)
    first, second = client.get("/form").get_data(), client.get("/form").get_data()
    assert b'name="_csrf" value="' in first
    assert first != second


def test_login_rotates_the_token(client: Any) -> None:
    _, old = session_with_token(client)
    response = client.post("/login", headers={"X-CSRF-Token": old})
    assert response.status_code == 200
    new = response.get_json()["token"]
    client.set_cookie("session", SetCookie.parse(response.headers["Set-Cookie"]).value)
    assert client.post("/submit", headers={"X-CSRF-Token": old}).status_code == 403
    assert client.post("/submit", headers={"X-CSRF-Token": new}).status_code == 200


def test_rejection_is_logged_without_the_token(
    client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    _, other = session_with_token(build_app().test_client())
    with caplog.at_level(logging.WARNING, logger="websession.csrf"):
        client.post("/submit", headers={"X-CSRF-Token": other})
    assert "token_invalid" in caplog.text
    assert other not in caplog.text
