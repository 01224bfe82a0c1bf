"""The apps the load-and-fault test serves with uvicorn (ASGI) and gunicorn (Flask).

Both read the store URL from ``WEBSESSION_FAULT_STORE`` and answer the same routes:
``/count?client=ID`` adds one to the session's counter (the session remembers the client
that made it), ``/read`` shows the session, ``/health`` touches no session.

    uvicorn --factory tests.faultapp:asgi --workers 2
    gunicorn --workers 2 --threads 4 'tests.faultapp:wsgi()'
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping
from typing import Any

import flask
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from websession import SessionConfig, SessionMiddleware
from websession.integrations.flask import init_app
from websession.stores import open_async_store

CONFIG = SessionConfig(secret="load-and-fault-" + "x" * 32, secure=False)


def count(session: MutableMapping[str, Any], client: str) -> dict[str, Any]:
    """One more on the counter of ``client``'s session; the session as JSON."""
    session.setdefault("client", client)
    session["n"] = session.get("n", 0) + 1
    return {"client": session["client"], "n": session["n"]}


def shown(session: MutableMapping[str, Any]) -> dict[str, Any]:
    """The session's client and counter."""
    return {"client": session.get("client"), "n": session.get("n", 0)}


def asgi() -> SessionMiddleware:
    """The Starlette app behind the session middleware."""

    async def count_route(request: Request) -> Response:
        return JSONResponse(count(request.session, request.query_params["client"]))

    async def read_route(request: Request) -> Response:
        return JSONResponse(shown(request.session))

    async def health(request: Request) -> Response:
        return PlainTextResponse("ok")

    routes = [Route("/count", count_route), Route("/read", read_route), Route("/health", health)]
    store = open_async_store(os.environ["WEBSESSION_FAULT_STORE"])
    return SessionMiddleware(Starlette(routes=routes), store=store, config=CONFIG)


def wsgi() -> flask.Flask:
    """The Flask app on websession's session interface."""
    app = flask.Flask(__name__)
    init_app(app, os.environ["WEBSESSION_FAULT_STORE"], CONFIG)

    @app.get("/count")
    def count_route() -> dict[str, Any]:
        return count(flask.session, flask.request.args["client"])

    @app.get("/read")
    def read_route() -> dict[str, Any]:
        return shown(flask.session)

    @app.get("/health")
    def health() -> str:
        return "ok"

    return app
