"""Pages of the demo: Jinja2 templates, the headers every page carries, small helpers.

Every page is private to its visitor (it shows the session), so every page is sent
with ``Cache-Control: no-store``: after logout the back button cannot show it again.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse

from websession.auth.web import WebAuth
from websession.core.session import Session
from websession.integrations.asgi import get_session
from websession.integrations.csrf import csrf_token

__all__ = ["HERE", "PRIVATE", "redirect", "render", "stamp", "web"]

HERE = Path(__file__).parent
"""The demo package's folder (templates and static files live beside the code)."""

PRIVATE = {"cache-control": "no-store"}
"""Headers of a page that shows one visitor's data."""

_ENV = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


def stamp(moment: datetime | float | None) -> dict[str, Any] | None:
    """A moment as the templates show it: ISO text, readable UTC text, Unix seconds."""
    if moment is None:
        return None
    if not isinstance(moment, datetime):
        moment = datetime.fromtimestamp(moment, UTC)
    return {
        "iso": moment.isoformat(timespec="seconds"),
        "text": moment.strftime("%Y-%m-%d %H:%M:%S UTC"),
        "epoch": int(moment.timestamp()),
    }


_ENV.globals["stamp"] = stamp


def web(request: Request) -> WebAuth:
    """The demo's ``WebAuth``."""
    found: WebAuth = request.app.state.web
    return found


async def render(
    request: Request, template: str, title: str, status_code: int = 200, **context: Any
) -> HTMLResponse:
    """Render ``template`` as a private page: the flash messages, the signed-in user
    and a CSRF token for its forms come with every page."""
    has_session = isinstance(request.scope.get("session"), Session)  # not on excluded paths
    page = _ENV.get_template(template).render(
        request=request,
        title=title,
        user=await web(request).current_user(request) if has_session else None,
        flashes=get_session(request).pop_flashes() if has_session else [],
        csrf=csrf_token(request) if has_session else "",
        path=request.url.path,
        **context,
    )
    return HTMLResponse(page, status_code=status_code, headers=PRIVATE)


def redirect(path: str) -> RedirectResponse:
    """A 303 to ``path`` (after a form post), not cached."""
    return RedirectResponse(path, status_code=303, headers=PRIVATE)
