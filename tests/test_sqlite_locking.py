"""No SQLite call blocks other requests while another process holds the write lock.

A second process opens the database and holds ``BEGIN IMMEDIATE`` for a few seconds.
Meanwhile a write request waits for the lock (the busy timeout allows 5 s), and other
requests, reads included, are still answered at once: on the same event loop (ASGI)
and from the same process's other threads (Flask). Bounds are generous: under a
second against a lock held for three.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import flask
import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from websession import SessionConfig, SessionMiddleware, SetCookie
from websession.integrations.flask import init_app

CONFIG = SessionConfig(secret="l" * 32, secure=False)
HOLD = 3.0
PROMPT = 1.0

_HOLDER = """
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
db.execute("ROLLBACK")
"""


@contextmanager
def write_lock_held_elsewhere(path: Path, seconds: float = HOLD) -> Iterator[float]:
    """Another process holds the database's write lock; yields when it is taken."""
    with subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(path), str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
    ) as holder:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "locked"
        yield time.monotonic() + seconds
        holder.wait(timeout=seconds + 10)


def cookie_of(headers: Any) -> str:
    header = headers.get("set-cookie")
    assert header, "the response sets no session cookie"
    return SetCookie.parse(header).value


# -- ASGI: one event loop -------------------------------------------------------------


def asgi_app(path: Path) -> SessionMiddleware:
    async def health(request: Request) -> Response:
        return PlainTextResponse("ok")

    async def read(request: Request) -> Response:
        return JSONResponse({"value": request.session.get("value")})

    async def write(request: Request) -> Response:
        request.session["value"] = request.query_params["v"]
        return PlainTextResponse("ok")

    routes = [Route("/health", health), Route("/read", read), Route("/write", write)]
    return SessionMiddleware(Starlette(routes=routes), store=f"sqlite:///{path}", config=CONFIG)


async def test_asgi_answers_reads_while_a_write_waits_for_another_process(
    tmp_path: Path,
) -> None:
    path = tmp_path / "sessions.db"
    transport = httpx.ASGITransport(app=asgi_app(path))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        first = await client.get("/write", params={"v": "before"})
        cookie = {"Cookie": f"session={cookie_of(first.headers)}"}
        with write_lock_held_elsewhere(path) as released_at:
            writing = asyncio.create_task(
                client.get("/write", params={"v": "after"}, headers=cookie)
            )
            await asyncio.sleep(0.2)  # the write is now waiting for the lock
            assert not writing.done()
            started = time.monotonic()
            health = await client.get("/health")
            read = await client.get("/read", headers=cookie)
            elapsed = time.monotonic() - started
            assert health.status_code == 200
            assert read.json() == {"value": "before"}
            assert elapsed < PROMPT
            assert time.monotonic() < released_at  # answered while the lock was held
            written = await writing
        assert written.status_code == 200
        after = await client.get("/read", headers=cookie)
        assert after.json() == {"value": "after"}


# -- Flask: threads of one process ----------------------------------------------------


def flask_app(path: Path) -> flask.Flask:
    app = flask.Flask(__name__)

    @app.get("/health")
    def health() -> str:
        return "ok"

    @app.get("/read")
    def read() -> dict[str, Any]:
        return {"value": flask.session.get("value")}

    @app.get("/write")
    def write() -> str:
        flask.session["value"] = flask.request.args["v"]
        return "ok"

    init_app(app, f"sqlite:///{path}", CONFIG)
    return app


def test_flask_answers_reads_while_a_writer_thread_waits_for_another_process(
    tmp_path: Path,
) -> None:
    path = tmp_path / "sessions.db"
    app = flask_app(path)
    first = app.test_client(use_cookies=False).get("/write", query_string={"v": "before"})
    cookie = {"Cookie": f"session={cookie_of(first.headers)}"}
    writer_started = threading.Event()

    def write() -> int:
        writer_started.set()
        client = app.test_client(use_cookies=False)
        return client.get("/write", query_string={"v": "after"}, headers=cookie).status_code

    def timed(url: str, headers: dict[str, str]) -> tuple[float, Any]:
        started = time.monotonic()
        response = app.test_client(use_cookies=False).get(url, headers=headers)
        return time.monotonic() - started, response

    with (
        write_lock_held_elsewhere(path) as released_at,
        ThreadPoolExecutor(4) as pool,
    ):
        writing = pool.submit(write)
        writer_started.wait()
        time.sleep(0.2)  # the writer is now waiting for the lock, holding the store's
        assert not writing.done()
        reads = [pool.submit(timed, "/read", cookie) for _ in range(3)]
        health = pool.submit(timed, "/health", {})
        for future in [*reads, health]:
            elapsed, response = future.result()
            assert response.status_code == 200
            assert elapsed < PROMPT
        assert [f.result()[1].json for f in reads] == [{"value": "before"}] * 3
        assert time.monotonic() < released_at
        assert writing.result() == 200
    after = app.test_client(use_cookies=False).get("/read", headers=cookie)
    assert after.json == {"value": "after"}
