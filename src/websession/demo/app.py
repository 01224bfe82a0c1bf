"""The demo app: a tour of websession on Starlette, with accounts and devices.

Run it with ``make demo`` or ``websession demo [--store URL] [--port N]``. The pages
(``tour``, ``account``, ``devices``) are Jinja2 templates; ``CSRFMiddleware`` checks
every form, and every page is private (``Cache-Control: no-store``).

Users live next to the sessions: with ``--store sqlite:///demo-sessions.db`` the users
are in ``sqlite:///demo-users.db`` (``WEBSESSION_USERS`` chooses another user store).
The admin view is for the users named in ``WEBSESSION_DEMO_ADMIN`` (comma separated),
else for the first account registered since the server started. The demo uses
``AuthConfig.development()``: cheap password hashing, for a local demo only.
"""

from __future__ import annotations

import errno
import os
import socket
import sys
import time
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from pathlib import PurePosixPath

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from websession.auth import AsyncAuth, AuthConfig
from websession.auth.web import WebAuth
from websession.config import SessionConfig
from websession.demo import account, devices, tour
from websession.demo.headers import SecurityHeaders
from websession.demo.render import HERE
from websession.errors import ConfigError
from websession.integrations.asgi import SessionMiddleware
from websession.integrations.csrf import CSRFMiddleware
from websession.stores import open_async_store
from websession.stores.base import AsyncStore
from websession.types import Clock

__all__ = ["create_app", "default_users_url", "demo_config", "serve", "shutdown"]


DEMO_AUTH = AuthConfig.development(max_failures_per_account=5)
"""Cheap hashing for a local demo; five wrong passwords a minute per account."""


def default_users_url(store: str) -> str:
    """Where the demo keeps users for the session store ``store``: beside an SQLite
    file (``x-sessions.db`` -> ``x-users.db``, ``x.db`` -> ``x-users.db``), in memory
    for ``memory://``, the same database for PostgreSQL, else ``demo-users.db``."""
    scheme = store.split("://", 1)[0].lower()
    if scheme == "memory" or store.rstrip("/") == "sqlite:":
        return "memory://"
    if scheme in ("postgresql", "postgres"):
        return store.split("?", 1)[0]
    if scheme == "sqlite" and store.startswith("sqlite:///"):
        path = PurePosixPath(store[len("sqlite:///") :])
        stem = path.stem.removesuffix("-sessions").removesuffix("_sessions")
        return "sqlite:///" + str(path.with_name(f"{stem}-users{path.suffix or '.db'}"))
    return "sqlite:///demo-users.db"


def _routes(web: WebAuth) -> list[Route | Mount]:
    login_required, recent = web.login_required, web.require_recent_auth()
    return [
        Route("/", tour.home),
        Route("/session", tour.session_page),
        Route("/cart", tour.cart, methods=["GET"]),
        Route("/cart/add", tour.add_to_cart, methods=["POST"]),
        Route("/cart/clear", tour.clear_cart, methods=["POST"]),
        Route("/csrf", tour.csrf_page, methods=["GET"]),
        Route("/csrf/check", tour.csrf_check, methods=["POST"]),
        Route("/register", account.register_page, methods=["GET"]),
        Route("/register", account.register, methods=["POST"]),
        Route("/login", account.login_page, methods=["GET"]),
        Route("/login", account.login, methods=["POST"]),
        Route("/logout", account.logout, methods=["POST"]),
        Route("/logout-everywhere", account.logout_everywhere, methods=["POST"]),
        Route("/password", recent(account.password_page), methods=["GET"]),
        Route("/password", recent(account.change_password), methods=["POST"]),
        Route("/devices", login_required(devices.devices), methods=["GET"]),
        Route("/devices/revoke", login_required(devices.revoke_device), methods=["POST"]),
        Route("/devices/revoke-others", login_required(devices.revoke_others), methods=["POST"]),
        Route("/admin", login_required(devices.admin_page), methods=["GET"]),
        Route("/admin/revoke", login_required(devices.admin_revoke), methods=["POST"]),
        Route("/admin/revoke-all", login_required(devices.admin_revoke_all), methods=["POST"]),
        Route("/health", tour.health),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]


def create_app(
    store: str,
    config: SessionConfig,
    *,
    users: str | None = None,
    auth_config: AuthConfig | None = None,
    admins: Iterable[str] = (),
    clock: Clock = time.time,
) -> Starlette:
    """Return the demo app on the session store ``store`` and the user store ``users``
    (default: ``default_users_url(store)``); ``admins`` names the admin view's users."""
    sessions: AsyncStore = open_async_store(store)
    auth = AsyncAuth(
        sessions,
        users or default_users_url(store),
        session_config=config,
        config=auth_config if auth_config is not None else DEMO_AUTH,
        clock=clock,
    )
    web = WebAuth(auth)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await shutdown(app)

    app = Starlette(
        routes=_routes(web),
        lifespan=lifespan,
        exception_handlers={HTTPException: tour.error_page},
    )
    app.state.auth = auth
    app.state.web = web
    app.state.sessions = sessions
    app.state.store_url = store
    app.state.config = config
    app.state.admins = devices.Admins(admins)
    app.add_middleware(CSRFMiddleware)  # inside the session middleware: added first
    app.add_middleware(
        SessionMiddleware,
        store=sessions,
        config=config,
        exclude_paths=["/health", "/static/"],
        clock=clock,
    )
    app.add_middleware(SecurityHeaders)
    return app


async def shutdown(app: Starlette) -> None:
    """Close the demo's stores (the lifespan does it when the server stops)."""
    await app.state.auth.close()
    await app.state.sessions.close()


def demo_config(environ: Mapping[str, str]) -> SessionConfig:
    """``WEBSESSION_*`` settings if a secret is set, else development settings with a
    generated secret (announced on stderr: sessions end when the process does)."""
    if environ.get("WEBSESSION_SECRET"):
        return SessionConfig.from_env(environ)
    print(
        "websession demo: no WEBSESSION_SECRET set; generated a development secret "
        "(sessions will not survive a restart)",
        file=sys.stderr,
    )
    return SessionConfig.development()


def check_port(host: str, port: int) -> None:
    """Raise ConfigError, saying how to choose another, if ``host:port`` is taken."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno not in (errno.EADDRINUSE, errno.EACCES):
                raise
            raise ConfigError(
                f"cannot serve the demo on {host}:{port}: the port is "
                f"{'in use' if exc.errno == errno.EADDRINUSE else 'not allowed'}. "
                f"Choose another: websession demo --port {port + 1} "
                f"(with make: PORT={port + 1} make demo)"
            ) from None


def serve(store: str, host: str = "127.0.0.1", port: int = 8000, users: str | None = None) -> None:
    """Serve the demo with uvicorn until interrupted; ConfigError if the port is taken."""
    import uvicorn

    check_port(host, port)
    users = users or os.environ.get("WEBSESSION_USERS") or default_users_url(store)
    admins = os.environ.get("WEBSESSION_DEMO_ADMIN", "").split(",")
    app = create_app(store, demo_config(os.environ), users=users, admins=admins)
    print(
        f"websession demo on http://{host}:{port} (sessions: {tour.safe_url(store)}, "
        f"users: {tour.safe_url(users)}); stop it with Ctrl+C",
        file=sys.stderr,
    )
    uvicorn.run(app, host=host, port=port, log_level="info")
