"""The apps under test: one tiny app per framework, wrapped by each session library.

Every app answers the same paths, so each case is the same request everywhere:

* ``/``       leaves the session untouched;
* ``/read``   reads the key ``user`` and answers its value;
* ``/write``  writes the key ``n`` (a new number each time) and answers it;
* ``/seed``   stores ``user=alice`` and ``n=0`` (to get a valid cookie);
* ``/check``  answers ``n`` (to check that a write round-trips).

The bare apps answer the same bodies without any session, so the difference in time is
what the session library costs.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import warnings
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from dataclasses import dataclass, field
from typing import Any, Literal

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

SECRET = "bench-secret-" + "x" * 40
"""One fixed signing secret for every library (each needs at least 32 bytes)."""

USER = "alice"


@dataclass
class Subject:
    """One library (or bare app) on one store, ready to be driven."""

    name: str
    kind: Literal["asgi", "wsgi", "django"]
    app: Any
    store: str
    """Label of the store kind: none, cookie, memory, sqlite, redis, postgres."""
    peer: bool = False
    handle: Any = None
    """The library's store object, for counting operations (None: nothing to count)."""
    closers: list[Callable[[], Any]] = field(default_factory=list)

    async def close(self) -> None:
        """Release the subject's connections."""
        for closer in self.closers:
            result = closer()
            if isinstance(result, Awaitable):
                await result


class _Counter:
    """A per-app counter so every write stores a new value."""

    def __init__(self) -> None:
        self._next = itertools.count(1)

    def next(self) -> int:
        return next(self._next)


def _text(body: bytes) -> list[Message]:
    return [
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", b"text/plain"),
                (b"content-length", str(len(body)).encode()),
            ],
        },
        {"type": "http.response.body", "body": body},
    ]


def asgi_app(*, bare: bool = False) -> ASGIApp:
    """The raw ASGI app: ``scope["session"]`` is all it knows of sessions."""
    counter = _Counter()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        path = scope["path"]
        if bare:
            body = b"ok"
            if path == "/read":
                body = USER.encode()
            elif path == "/write":
                body = str(counter.next()).encode()
        else:
            session = scope["session"]
            if path == "/read":
                body = str(session["user"]).encode()
            elif path == "/write":
                value = counter.next()
                session["n"] = value
                body = str(value).encode()
            elif path == "/seed":
                session["user"] = USER
                session["n"] = 0
                body = b"seeded"
            elif path == "/check":
                body = str(session.get("n")).encode()
            else:
                body = b"ok"
        for message in _text(body):
            await send(message)

    return app


def flask_app(configure: Callable[[Any], object] | None) -> WSGIApp:
    """A Flask app on the same paths; ``configure`` installs sessions (None: bare)."""
    from flask import Flask, session

    app = Flask("bench")
    counter = _Counter()
    bare = configure is None
    if configure is not None:
        configure(app)

    @app.get("/")
    def untouched() -> str:
        return "ok"

    @app.get("/read")
    def read() -> str:
        return USER if bare else str(session["user"])

    @app.get("/write")
    def write() -> str:
        value = counter.next()
        if not bare:
            session["n"] = value
        return str(value)

    @app.get("/seed")
    def seed() -> str:
        session["user"] = USER
        session["n"] = 0
        return "seeded"

    @app.get("/check")
    def check() -> str:
        return str(session.get("n"))

    return app.wsgi_app


# -- websession ----------------------------------------------------------------------


def _ws_config() -> Any:
    from websession import SessionConfig

    return SessionConfig.development(secret=SECRET)


def websession_asgi(name: str, url: str, store_kind: str, *, sealed: bool = False) -> Subject:
    """websession's ASGI middleware on the store at ``url`` (``sealed``: with
    ``encrypt_at_rest`` on)."""
    from websession.integrations.asgi import SessionMiddleware
    from websession.stores import open_async_store

    store = open_async_store(url)
    config = _ws_config().replace(encrypt_at_rest=sealed)
    app = SessionMiddleware(asgi_app(), store=store, config=config)
    return Subject(name, "asgi", app, store_kind, handle=store, closers=[store.close])


def websession_cookie(name: str) -> Subject:
    """websession's ASGI middleware on its encrypted cookie backend (``cookie://``)."""
    from websession.integrations.asgi import SessionMiddleware

    app = SessionMiddleware(asgi_app(), store="cookie://", config=_ws_config())
    return Subject(name, "asgi", app, "cookie")


def websession_flask(name: str, url: str, store_kind: str, *, refresh: bool = False) -> Subject:
    """websession's Flask integration on the sync store at ``url``; ``refresh``: its
    ``refresh_each_request`` (Flask's ``SESSION_REFRESH_EACH_REQUEST``; off by default,
    where a read costs no write until the refresh threshold)."""
    from websession.integrations.flask import init_app
    from websession.stores import open_store

    store = open_store(url)
    config = _ws_config().replace(refresh_each_request=refresh)
    app = flask_app(lambda flask: init_app(flask, store=store, config=config))
    return Subject(name, "wsgi", app, store_kind, handle=store, closers=[store.close])


# -- peers -----------------------------------------------------------------------------


def starlette_cookie() -> Subject:
    """Starlette's signed-cookie SessionMiddleware."""
    from starlette.middleware.sessions import SessionMiddleware

    app = SessionMiddleware(asgi_app(), secret_key=SECRET, https_only=False)
    return Subject("Starlette SessionMiddleware", "asgi", app, "cookie", peer=True)


def starsessions(name: str, store: Any, store_kind: str) -> Subject:
    """starsessions with autoload (its documented way to fill ``scope["session"]``)."""
    from starsessions import SessionAutoloadMiddleware, SessionMiddleware

    app = SessionMiddleware(
        SessionAutoloadMiddleware(asgi_app()), store=store, cookie_https_only=False
    )
    return Subject(name, "asgi", app, store_kind, peer=True, handle=store)


def starsessions_memory() -> Subject:
    """starsessions with its in-memory store."""
    from starsessions import InMemoryStore

    return starsessions("starsessions memory", InMemoryStore(), "memory")


def starsessions_redis(url: str) -> Subject:
    """starsessions with its Redis store on a redis.asyncio client."""
    import redis.asyncio
    from starsessions.stores.redis import RedisStore

    client = redis.asyncio.Redis.from_url(url)
    subject = starsessions("starsessions Redis", RedisStore(connection=client), "redis")
    subject.closers.append(client.aclose)
    return subject


def flask_default() -> Subject:
    """Flask's default signed-cookie session."""

    def configure(app: Any) -> None:
        app.secret_key = SECRET

    return Subject("Flask default session", "wsgi", flask_app(configure), "cookie", peer=True)


def flask_session_redis(name: str, url: str, *, refresh: bool = True) -> Subject:
    """Flask-Session's Redis interface, permanent sessions (its default); ``refresh``:
    ``SESSION_REFRESH_EACH_REQUEST`` (its default, on: a GET and a SET on every request
    with a cookie; off: a read is one GET and nothing else)."""
    import redis
    from flask_session import Session

    client = redis.Redis.from_url(url)

    def configure(app: Any) -> None:
        app.secret_key = SECRET
        app.config.update(
            SESSION_TYPE="redis", SESSION_REDIS=client, SESSION_REFRESH_EACH_REQUEST=refresh
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            Session(app)

    app = flask_app(configure)
    return Subject(name, "wsgi", app, "redis", peer=True, closers=[client.close])


def bare_asgi() -> Subject:
    """The raw ASGI app with no session middleware."""
    return Subject("bare ASGI app", "asgi", asgi_app(bare=True), "none")


def bare_flask() -> Subject:
    """The Flask app with no secret key: Flask opens only its null session."""
    return Subject("bare Flask app", "wsgi", flask_app(None), "none")


def postgres_available() -> str | None:
    """None if websession's PostgreSQL store can be imported, else the reason."""
    try:
        import websession.stores.postgres  # noqa: F401
    except ImportError as exc:
        return f"websession.stores.postgres is not importable ({exc})"
    return None


def cookie_backend_available() -> str | None:
    """None if websession's encrypted cookie backend exists, else the reason."""
    with contextlib.suppress(ImportError):
        import websession.backends.cookie  # noqa: F401

        return None
    return "websession.backends.cookie does not exist yet"


def env(name: str) -> str | None:
    """A server URL from the environment, or None."""
    return os.environ.get(name) or None
