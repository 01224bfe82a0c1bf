"""The demo: a Starlette app on websession with accounts, devices, flash and a counter.

Run it with ``make demo`` or ``websession demo [--store URL] [--port N]``. Pages:

* ``/`` counts visits in the session and says who is logged in;
* ``/register`` and ``/login`` (password, argon2id), ``/logout`` and
  ``/logout-everywhere`` (every session of the user is revoked);
* ``/devices`` lists where the user is signed in, and signs out one device or all
  the others;
* ``/password`` changes the password (needs a recent login; other sessions are
  signed out).

Users live next to the sessions: with ``--store sqlite:///demo-sessions.db`` the users
are in ``sqlite:///demo-users.db`` (``WEBSESSION_USERS`` chooses another user store).
The demo uses ``AuthConfig.development()``: cheap password hashing, for a local demo
only. Forms rely on SameSite=Lax cookies against cross-site posts.
"""

from __future__ import annotations

import html
import os
import sys
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import PurePosixPath
from urllib.parse import quote

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from websession.auth import AsyncAuth, AuthConfig, AuthError, Device, User
from websession.auth.web import WebAuth, client_info, safe_next
from websession.config import SessionConfig
from websession.integrations.asgi import SessionMiddleware, get_session
from websession.stores import open_async_store
from websession.stores.base import AsyncStore
from websession.types import Clock

__all__ = ["create_app", "default_users_url", "demo_config", "serve", "shutdown"]

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>websession demo</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 44rem; margin: 3rem auto; }}
.flash {{ padding: .5rem 1rem; background: #e8f4e8; border: 1px solid #9c9; }}
.flash.error {{ background: #f8e8e8; border-color: #c99; }}
form.inline {{ display: inline; }}
label {{ display: block; margin: .5rem 0; }}
table {{ border-collapse: collapse; }} td, th {{ padding: .25rem .5rem; text-align: left; }}
</style></head>
<body><h1><a href="/">websession demo</a></h1>{flashes}{body}</body></html>"""


def _render(request: Request, body: str, status_code: int = 200) -> HTMLResponse:
    session = get_session(request)
    flashes = "".join(
        f'<p class="flash {html.escape(category)}" role="status">{html.escape(message)}</p>'
        for category, message in session.pop_flashes()
    )
    return HTMLResponse(_PAGE.format(flashes=flashes, body=body), status_code=status_code)


def _redirect(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


def _web(request: Request) -> WebAuth:
    web: WebAuth = request.app.state.web
    return web


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def _button(action: str, label: str, **fields: str) -> str:
    hidden = "".join(
        f'<input type="hidden" name="{html.escape(n)}" value="{html.escape(v)}">'
        for n, v in fields.items()
    )
    return (
        f'<form class="inline" method="post" action="{html.escape(action)}">{hidden}'
        f'<button type="submit">{html.escape(label)}</button></form>'
    )


# -- pages -------------------------------------------------------------------------


async def home(request: Request) -> Response:
    """Count visits and show who is logged in."""
    session = get_session(request)
    session["visits"] = session.get("visits", 0) + 1
    user = await _web(request).current_user(request)
    if user is None:
        who = (
            '<p>You are not logged in. <a href="/login">Log in</a> or '
            '<a href="/register">create an account</a>.</p>'
        )
    else:
        who = (
            f'<p>Logged in as <strong id="user">{html.escape(user.username)}</strong>. '
            '<a href="/devices">Your devices</a> · <a href="/password">Change password</a></p>'
            f"<p>{_button('/logout', 'Log out')} "
            f"{_button('/logout-everywhere', 'Log out everywhere')}</p>"
        )
    visits = session["visits"]
    return _render(
        request, f'<p>Visits in this session: <strong id="visits">{visits}</strong></p>{who}'
    )


def _credentials_form(action: str, button: str, next_path: str = "") -> str:
    hidden = (
        f'<input type="hidden" name="next" value="{html.escape(next_path)}">' if next_path else ""
    )
    password_hint = "new-password" if action == "/register" else "current-password"
    return (
        f'<form method="post" action="{action}">{hidden}'
        '<label>Username <input name="username" required maxlength="64" '
        'autocomplete="username"></label>'
        '<label>Password <input name="password" type="password" required '
        f'autocomplete="{password_hint}"></label>'
        f'<button type="submit">{button}</button></form>'
    )


async def register_page(request: Request) -> Response:
    """The registration form."""
    return _render(
        request,
        "<h2>Create an account</h2>"
        + _credentials_form("/register", "Create account")
        + '<p>Have one? <a href="/login">Log in</a>.</p>',
    )


async def register(request: Request) -> Response:
    """Create the account and log it in."""
    form = await request.form()
    username, password = str(form.get("username", "")), str(form.get("password", ""))
    web = _web(request)
    session = get_session(request)
    try:
        user = await web.auth.register_user(username, password)
        await web.login(request, username, password)
    except AuthError as exc:
        session.flash(exc.message, "error")
        return _redirect("/register")
    session.flash(f"Welcome, {user.username}! Your account is ready.")
    return _redirect("/")


async def login_page(request: Request) -> Response:
    """The login form."""
    next_path = safe_next(request.query_params.get("next"), "")
    return _render(
        request,
        "<h2>Log in</h2>"
        + _credentials_form("/login", "Log in", next_path)
        + '<p>New here? <a href="/register">Create an account</a>.</p>',
    )


async def login(request: Request) -> Response:
    """Check the password: regenerate the session, bind the user, record the device."""
    form = await request.form()
    next_path = safe_next(form.get("next"))
    web = _web(request)
    session = get_session(request)
    try:
        user = await web.login(
            request, str(form.get("username", "")), str(form.get("password", ""))
        )
    except AuthError as exc:
        session.flash(exc.message, "error")
        query = f"?next={quote(next_path, safe='/')}" if next_path != "/" else ""
        return _redirect(f"/login{query}")
    session.flash(f"Welcome back, {user.username}!")
    return _redirect(next_path)


async def logout(request: Request) -> Response:
    """Revoke this session, then flash a goodbye in a fresh one."""
    await _web(request).logout(request)
    get_session(request).flash("You have been logged out.")
    return _redirect("/")


async def logout_everywhere(request: Request) -> Response:
    """Revoke every session of the user, this one included."""
    revoked = await _web(request).logout(request, everywhere=True)
    get_session(request).flash(
        f"You have been logged out everywhere ({revoked} session{'' if revoked == 1 else 's'})."
    )
    return _redirect("/")


def _device_row(device: Device) -> str:
    action = (
        "<strong>this device</strong>"
        if device.current
        else _button("/devices/revoke", "Sign out", device=device.id)
    )
    return (
        f'<tr class="device" data-id="{html.escape(device.id)}">'
        f"<td>{html.escape(device.user_agent or 'unknown browser')}</td>"
        f"<td>{html.escape(device.ip or 'unknown address')}</td>"
        f"<td>{_when(device.created_at)}</td><td>{_when(device.last_seen)}</td>"
        f"<td>{action}</td></tr>"
    )


async def devices(request: Request) -> Response:
    """Where the user is signed in."""
    web = _web(request)
    user: User = request.state.user
    listed = await web.auth.list_sessions(user.id, current=get_session(request))
    rows = "".join(_device_row(d) for d in listed)
    others = any(not d.current for d in listed)
    return _render(
        request,
        f"<h2>Devices signed in as {html.escape(user.username)}</h2>"
        "<table><tr><th>Browser</th><th>Address</th><th>Logged in</th><th>Last seen</th>"
        f"<th></th></tr>{rows}</table>"
        + (
            f"<p>{_button('/devices/revoke-others', 'Sign out all other devices')}</p>"
            if others
            else ""
        ),
    )


async def revoke_device(request: Request) -> Response:
    """Sign out one device."""
    form = await request.form()
    web = _web(request)
    user: User = request.state.user
    session = get_session(request)
    if await web.auth.revoke_device(user.id, str(form.get("device", ""))):
        session.flash("That device has been signed out.")
    else:
        session.flash("That device was already signed out.", "error")
    return _redirect("/devices")


async def revoke_others(request: Request) -> Response:
    """Sign out every device but this one."""
    web = _web(request)
    user: User = request.state.user
    session = get_session(request)
    revoked = await web.auth.logout_user(user.id, keep=session)
    session.flash(f"Signed out {revoked} other device{'s' if revoked != 1 else ''}.")
    return _redirect("/devices")


async def password_page(request: Request) -> Response:
    """The password change form (needs a recent login)."""
    return _render(
        request,
        "<h2>Change password</h2>"
        '<form method="post" action="/password">'
        '<label>Current password <input name="current" type="password" required '
        'autocomplete="current-password"></label>'
        '<label>New password <input name="new" type="password" required '
        'autocomplete="new-password"></label>'
        '<button type="submit">Change password</button></form>'
        "<p>Every other device is signed out.</p>",
    )


async def change_password(request: Request) -> Response:
    """Change the password; the other sessions are revoked."""
    form = await request.form()
    web = _web(request)
    user: User = request.state.user
    session = get_session(request)
    ip, _ = client_info(request)
    try:
        revoked = await web.auth.change_password(
            user.id, str(form.get("current", "")), str(form.get("new", "")), session=session, ip=ip
        )
    except AuthError as exc:
        session.flash(exc.message, "error")
        return _redirect("/password")
    others = f"{revoked} other session{' was' if revoked == 1 else 's were'}"
    session.flash(f"Your password was changed; {others} signed out.")
    return _redirect("/")


async def health(request: Request) -> Response:
    """Liveness check without a session."""
    return Response("ok", media_type="text/plain")


# -- the app -----------------------------------------------------------------------


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


def create_app(
    store: str,
    config: SessionConfig,
    *,
    users: str | None = None,
    auth_config: AuthConfig | None = None,
    clock: Clock = time.time,
) -> Starlette:
    """Return the demo app on the session store ``store`` and the user store ``users``
    (default: ``default_users_url(store)``)."""
    sessions: AsyncStore = open_async_store(store)
    auth = AsyncAuth(
        sessions,
        users or default_users_url(store),
        session_config=config,
        config=auth_config if auth_config is not None else AuthConfig.development(),
        clock=clock,
    )
    web = WebAuth(auth)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await shutdown(app)

    app = Starlette(
        routes=[
            Route("/", home),
            Route("/register", register_page, methods=["GET"]),
            Route("/register", register, methods=["POST"]),
            Route("/login", login_page, methods=["GET"]),
            Route("/login", login, methods=["POST"]),
            Route("/logout", logout, methods=["POST"]),
            Route("/logout-everywhere", logout_everywhere, methods=["POST"]),
            Route("/devices", web.login_required(devices), methods=["GET"]),
            Route("/devices/revoke", web.login_required(revoke_device), methods=["POST"]),
            Route("/devices/revoke-others", web.login_required(revoke_others), methods=["POST"]),
            Route("/password", web.require_recent_auth()(password_page), methods=["GET"]),
            Route("/password", web.require_recent_auth()(change_password), methods=["POST"]),
            Route("/health", health),
        ],
        lifespan=lifespan,
    )
    app.state.auth = auth
    app.state.web = web
    app.state.sessions = sessions
    app.add_middleware(
        SessionMiddleware, store=sessions, config=config, exclude_paths=["/health"], clock=clock
    )
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


def serve(store: str, host: str = "127.0.0.1", port: int = 8000, users: str | None = None) -> None:
    """Serve the demo with uvicorn until interrupted."""
    import uvicorn

    users = users or os.environ.get("WEBSESSION_USERS") or default_users_url(store)
    app = create_app(store, demo_config(os.environ), users=users)
    print(
        f"websession demo on http://{host}:{port} (sessions: {store}, users: {users})",
        file=sys.stderr,
    )
    uvicorn.run(app, host=host, port=port, log_level="info")
