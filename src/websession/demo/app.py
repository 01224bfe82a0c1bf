"""The demo: a Starlette app on websession showing a counter, login, flash and logout.

Run it with ``make demo`` or ``websession demo [--store URL] [--port N]``.
"""

from __future__ import annotations

import html
import os
import sys
from collections.abc import Mapping

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from websession.config import SessionConfig
from websession.integrations.asgi import SessionMiddleware, get_session

__all__ = ["create_app", "demo_config", "serve"]

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>websession demo</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; }}
.flash {{ padding: .5rem 1rem; background: #e8f4e8; border: 1px solid #9c9; }}
.flash.error {{ background: #f8e8e8; border-color: #c99; }}
</style></head>
<body><h1>websession demo</h1>{flashes}{body}</body></html>"""


def _render(request: Request, body: str) -> HTMLResponse:
    session = get_session(request)
    flashes = "".join(
        f'<p class="flash {html.escape(category)}" role="status">{html.escape(message)}</p>'
        for category, message in session.pop_flashes()
    )
    return HTMLResponse(_PAGE.format(flashes=flashes, body=body))


async def home(request: Request) -> Response:
    """Count visits and show who is logged in."""
    session = request.session
    session["visits"] = session.get("visits", 0) + 1
    user = get_session(request).user_id
    if user is None:
        who = (
            '<form method="post" action="/login"><label>Name '
            '<input name="username" required maxlength="64" autocomplete="username">'
            '</label> <button type="submit">Log in</button></form>'
        )
    else:
        who = (
            f'<p>Logged in as <strong id="user">{html.escape(user)}</strong>.</p>'
            '<form method="post" action="/logout"><button type="submit">Log out</button></form>'
        )
    visits = session["visits"]
    return _render(
        request, f'<p>Visits in this session: <strong id="visits">{visits}</strong></p>{who}'
    )


async def login(request: Request) -> Response:
    """Log in with any name: regenerate the session, bind the user, flash a welcome."""
    form = await request.form()
    username = str(form.get("username", "")).strip()
    session = get_session(request)
    if not username or len(username) > 64:
        session.flash("Enter a name of 1 to 64 characters.", "error")
        return RedirectResponse("/", status_code=303)
    session.regenerate()
    session.user_id = username
    session.flash(f"Welcome, {username}!")
    return RedirectResponse("/", status_code=303)


async def logout(request: Request) -> Response:
    """Destroy the session server-side, then flash a goodbye in a fresh one."""
    session = get_session(request)
    session.destroy()
    session.flash("You have been logged out.")
    return RedirectResponse("/", status_code=303)


async def health(request: Request) -> Response:
    """Liveness check without a session."""
    return Response("ok", media_type="text/plain")


def create_app(store: str, config: SessionConfig) -> Starlette:
    """Return the demo app on ``store``."""
    app = Starlette(
        routes=[
            Route("/", home),
            Route("/login", login, methods=["POST"]),
            Route("/logout", logout, methods=["POST"]),
            Route("/health", health),
        ]
    )
    app.add_middleware(SessionMiddleware, store=store, config=config, exclude_paths=["/health"])
    return app


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


def serve(store: str, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Serve the demo with uvicorn until interrupted."""
    import uvicorn

    app = create_app(store, demo_config(os.environ))
    print(f"websession demo on http://{host}:{port} (store: {store})", file=sys.stderr)
    uvicorn.run(app, host=host, port=port, log_level="info")
