"""The sync service in a WSGI app: Flask with websession's session interface."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask, request
from flask.testing import FlaskClient

from websession import SessionConfig
from websession.auth import AsyncAuth, Auth, AuthConfig, AuthError, SessionRevoked
from websession.integrations.flask import get_session, init_app
from websession.stores import open_store

PASSWORD = "correct horse battery"
CONFIG = SessionConfig(
    secret="k" * 32,
    secure=False,
    idle_timeout=timedelta(minutes=30),
    absolute_timeout=timedelta(hours=2),
)


@pytest.fixture
def auth(tmp_path: Path) -> Iterator[Auth]:
    service = Auth(
        open_store(f"sqlite:///{tmp_path / 'sessions.db'}"),
        f"sqlite:///{tmp_path / 'users.db'}",
        session_config=CONFIG,
        config=AuthConfig.development(),
    )
    service.register_user("alice", PASSWORD)
    yield service
    service.close()
    service.sessions.close()


@pytest.fixture
def client(auth: Auth) -> FlaskClient:
    app = Flask(__name__)
    init_app(app, store=auth.sessions, config=CONFIG)

    @app.post("/login")
    def login() -> tuple[dict[str, str], int]:
        try:
            user = auth.login(
                get_session(),
                request.form["username"],
                request.form["password"],
                ip=request.remote_addr,
                user_agent=request.user_agent.string,
            )
        except AuthError as exc:
            return exc.to_json(), exc.status
        return {"user": user.username}, 200

    @app.get("/me")
    def me() -> dict[str, str | None]:
        user = auth.user_of(get_session())
        return {"user": user.username if user is not None else None}

    @app.post("/logout")
    def logout() -> dict[str, int]:
        revoked = auth.logout(get_session())
        get_session().flash("bye")
        return {"revoked": revoked}

    @app.get("/flashes")
    def flashes() -> dict[str, list[tuple[str, str]]]:
        return {"flashes": get_session().pop_flashes()}

    return app.test_client()


def log_in(client: FlaskClient) -> str:
    response = client.post("/login", data={"username": "alice", "password": PASSWORD})
    assert response.json == {"user": "alice"}
    cookie = client.get_cookie("session")
    assert cookie is not None
    return cookie.value


def test_flask_login_binds_the_session(client: FlaskClient, auth: Auth) -> None:
    cookie = log_in(client)
    assert client.get("/me").json == {"user": "alice"}
    found = auth.authenticate_session(cookie)
    assert found.device.ip == "127.0.0.1"


def test_flask_wrong_password_answers_the_error_body(client: FlaskClient) -> None:
    response = client.post("/login", data={"username": "alice", "password": "nope"})
    assert response.status_code == 401
    assert response.json == {
        "error": {
            "code": "invalid_credentials",
            "message": "The username or password is incorrect.",
        }
    }


def test_flask_logout_revokes_and_starts_a_fresh_session(client: FlaskClient, auth: Auth) -> None:
    cookie = log_in(client)
    assert client.post("/logout").json == {"revoked": 1}
    assert client.get("/flashes").json == {"flashes": [["message", "bye"]]}
    assert client.get("/me").json == {"user": None}
    with pytest.raises(SessionRevoked):
        auth.authenticate_session(cookie)
    client.set_cookie("session", cookie)
    assert client.get("/me").json == {"user": None}


async def test_flask_and_asgi_services_share_logins(
    client: FlaskClient, auth: Auth, tmp_path: Path
) -> None:
    cookie = log_in(client)
    other = AsyncAuth(
        f"sqlite:///{tmp_path / 'sessions.db'}",
        f"sqlite:///{tmp_path / 'users.db'}",
        session_config=CONFIG,
        config=AuthConfig.development(),
    )
    try:
        found = await other.authenticate_session(cookie)
        assert found.user.username == "alice"
        assert await other.logout_user(found.user.id) == 1
    finally:
        await other.close()
    with pytest.raises(SessionRevoked):
        auth.authenticate_session(cookie)
    assert client.get("/me").json == {"user": None}
