"""A corrupt record of the embedded stores over HTTP (issue 10): the request that brings
its cookie gets a fresh anonymous session and a 200, never the file store's 503 or
SQLite's 500, and the record is gone. ASGI and Flask, file and SQLite."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import flask
import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from websession import SessionConfig, SessionMiddleware, SetCookie, open_store
from websession.core.tokens import hash_token
from websession.integrations.flask import init_app
from websession.stores import open_async_store

CONFIG = SessionConfig(secret="c" * 32, secure=False)
CASES = [
    *(("file", g) for g in ["{not json", "[1, 2]", '"text"', '{"data": []}', ""]),
    *(("sqlite", g) for g in ["{", "[1]", '"text"', "null"]),  # the data column
]


def corrupt(kind: str, root: Path, cookie: str, garbage: str) -> Path | None:
    """Overwrite the stored record of ``cookie``; the file it lives in, if any."""
    key = hash_token(cookie.split(".")[0])
    if kind == "file":
        path = root / "sessions" / "sessions" / key[:2] / f"{key}.json"
        assert path.exists()
        path.write_text(garbage)
        return path
    with sqlite3.connect(root / "s.db") as db:
        db.execute("UPDATE websession_sessions SET data = ? WHERE key = ?", (garbage, key))
    return None


def url_of(kind: str, root: Path) -> str:
    return f"file://{root / 'sessions'}" if kind == "file" else f"sqlite:///{root / 's.db'}"


def rows(kind: str, root: Path, path: Path | None) -> int:
    if path is not None:
        return int(path.exists())
    with sqlite3.connect(root / "s.db") as db:
        count: int = db.execute("SELECT count(*) FROM websession_sessions").fetchone()[0]
    return count


@pytest.mark.parametrize(("kind", "garbage"), CASES)
async def test_asgi_a_corrupt_record_answers_a_fresh_session(
    kind: str, garbage: str, tmp_path: Path
) -> None:
    async def write(request: Request) -> Response:
        request.session["value"] = "mine"
        return PlainTextResponse("ok")

    async def read(request: Request) -> Response:
        return JSONResponse({"value": request.session.get("value")})

    store = open_async_store(url_of(kind, tmp_path))
    app = SessionMiddleware(
        Starlette(routes=[Route("/write", write), Route("/read", read)]),
        store=store,
        config=CONFIG,
    )
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            cookie = SetCookie.parse((await client.get("/write")).headers["set-cookie"]).value
            client.cookies.clear()
            path = corrupt(kind, tmp_path, cookie, garbage)
            for _ in range(2):  # not once: every time
                response = await client.get("/read", headers={"cookie": f"session={cookie}"})
                client.cookies.clear()
                assert response.status_code == 200
                assert response.json() == {"value": None}
        assert rows(kind, tmp_path, path) == 0
    finally:
        await store.close()


@pytest.mark.parametrize(("kind", "garbage"), CASES)
def test_flask_a_corrupt_record_answers_a_fresh_session(
    kind: str, garbage: str, tmp_path: Path
) -> None:
    store = open_store(url_of(kind, tmp_path))
    app = flask.Flask(__name__)
    init_app(app, store=store, config=CONFIG)

    @app.get("/write")
    def write() -> str:
        flask.session["value"] = "mine"
        return "ok"

    @app.get("/read")
    def read() -> Any:
        return {"value": flask.session.get("value")}

    try:
        client = app.test_client(use_cookies=False)
        cookie = SetCookie.parse(client.get("/write").headers["Set-Cookie"]).value
        path = corrupt(kind, tmp_path, cookie, garbage)
        for _ in range(2):
            response = client.get("/read", headers={"Cookie": f"session={cookie}"})
            assert response.status_code == 200
            assert response.json == {"value": None}
        assert rows(kind, tmp_path, path) == 0
    finally:
        store.close()
