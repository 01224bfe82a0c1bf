"""The tour pages: home, what the session holds, the cart, the CSRF check, errors.

* ``/`` counts visits and says what to try;
* ``/session`` shows the session as the server sees it: cookie flags, the store key's
  prefix (a hash of the token: the token itself is never shown or stored), deadlines
  counting down, the store in use, and the data;
* ``/cart`` keeps two items under two keys: two requests in flight at once (the "add
  both at once" button, or two tabs) each write only the key they changed;
* ``/csrf`` explains what the Fetch-Metadata check decided for the last form posted.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import orjson
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from websession.core.csrf import CSRFPolicy, parse_host
from websession.core.jsondata import RESERVED_PREFIX
from websession.core.session import Session
from websession.demo.account import PREVIOUS_ID, short_id
from websession.demo.render import redirect, render
from websession.integrations.asgi import get_session

__all__ = [
    "CART_ITEMS",
    "add_to_cart",
    "cart",
    "clear_cart",
    "csrf_check",
    "csrf_page",
    "error_page",
    "health",
    "home",
    "safe_url",
    "session_page",
]

CART_ITEMS = ("apples", "pears")
"""What the cart holds, each under its own session key ``cart_<item>``."""
SLOW_SECONDS = 0.4
"""How long a "slow" cart request holds its session before answering."""
CSRF_CHECK = "demo_csrf_check"
"""Session key: what the CSRF check saw on the last form posted to ``/csrf``."""


def safe_url(url: str) -> str:
    """``url`` with any password replaced by ``***`` (safe to show)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port is not None:
        host += f":{parts.port}"
    netloc = f"{parts.username or ''}:***@{host}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


async def home(request: Request) -> Response:
    """Count visits in the session; say what to try."""
    session = get_session(request)
    session["visits"] = session.get("visits", 0) + 1
    return await render(
        request,
        "home.html",
        "Home",
        visits=session["visits"],
        previous=session.get(PREVIOUS_ID),
        current=short_id(session.key),
        admin=request.app.state.admins.describe(),
        max_failures=request.app.state.auth.config.max_failures_per_account,
    )


def _cookie_facts(request: Request) -> list[tuple[str, str]]:
    config = request.app.state.config
    lifetime = (
        f"persistent: Max-Age follows the idle deadline ({config.idle_timeout})"
        if config.permanent
        else "browser session (no Max-Age)"
    )
    return [
        ("Name", config.cookie_name),
        ("HttpOnly", "yes: scripts cannot read it" if config.http_only else "no"),
        ("Secure", "yes: HTTPS only" if config.secure else "no (local HTTP development)"),
        ("SameSite", str(config.same_site).capitalize()),
        ("Path", config.cookie_path),
        ("Domain", config.cookie_domain or "this host only"),
        ("Lifetime", lifetime),
        ("Value", "a random 256-bit token, signed; the store keeps only its hash"),
    ]


async def session_page(request: Request) -> Response:
    """What the session holds right now, as the server and the store see it."""
    session = get_session(request)
    record = session.record
    config = request.app.state.config
    data = {k: v for k, v in dict.items(session) if not k.startswith(RESERVED_PREFIX)}
    internal = sorted(k for k in dict.keys(session) if k.startswith(RESERVED_PREFIX))
    return await render(
        request,
        "session.html",
        "Your session",
        cookie=_cookie_facts(request),
        key=short_id(session.key),
        previous=session.get(PREVIOUS_ID),
        record=record,
        idle_timeout=config.idle_timeout,
        absolute_timeout=config.absolute_timeout,
        refresh=config.refresh_threshold,
        store=safe_url(request.app.state.store_url),
        store_kind=type(request.app.state.sessions).__name__,
        data=orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode(),
        internal=internal,
        user_id=session.user_id,
        now=int(request.app.state.auth.clock()),
    )


def _cart(session: Session) -> dict[str, int]:
    return {item: int(session.get(f"cart_{item}", 0)) for item in CART_ITEMS}


async def cart(request: Request) -> Response:
    """Two items, two keys."""
    return await render(
        request, "cart.html", "Cart", items=_cart(get_session(request)), slow=SLOW_SECONDS
    )


async def add_to_cart(request: Request) -> Response:
    """Add one of an item; ``slow=1`` holds the request open so that two overlap."""
    form = await request.form()
    item = str(form.get("item", ""))
    if item not in CART_ITEMS:
        raise HTTPException(400, "No such item.")
    session = get_session(request)
    session[f"cart_{item}"] = _cart(session)[item] + 1
    if form.get("slow") == "1":
        await asyncio.sleep(SLOW_SECONDS)
    return redirect("/cart")


async def clear_cart(request: Request) -> Response:
    """Empty the cart."""
    session = get_session(request)
    for item in CART_ITEMS:
        session.pop(f"cart_{item}", None)
    session.flash("The cart is empty.")
    return redirect("/cart")


async def csrf_page(request: Request) -> Response:
    """How unsafe requests are checked, and what the last check here decided."""
    return await render(
        request, "csrf.html", "CSRF protection", check=get_session(request).get(CSRF_CHECK)
    )


def _explain(request: Request, with_token: bool) -> dict[str, Any]:
    site = request.headers.get("sec-fetch-site")
    origin = request.headers.get("origin")
    own = parse_host(request.headers.get("host", ""), request.url.scheme)
    decision = CSRFPolicy().check_headers(request.method, site, origin, own)
    if decision.verdict.value == "allow":
        verdict = "allowed by the browser's headers: no token needed"
    elif with_token:
        verdict = "the headers did not decide; the session-bound token was checked and matched"
    else:  # pragma: no cover - the middleware refuses this before the page runs
        verdict = "refused"
    return {
        "sec_fetch_site": site or "(not sent)",
        "origin": origin or "(not sent)",
        "own_origin": str(own) if own is not None else "(unknown)",
        "token": "sent" if with_token else "not sent",
        "verdict": verdict,
    }


async def csrf_check(request: Request) -> Response:
    """A form post that passed the CSRF middleware: record why, show it on ``/csrf``."""
    form = await request.form()
    get_session(request)[CSRF_CHECK] = _explain(request, bool(form.get("_csrf")))
    return redirect("/csrf")


async def error_page(request: Request, exc: Exception) -> Response:
    """An HTML page for HTTP errors (404 and the like)."""
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    detail = exc.detail if isinstance(exc, HTTPException) else "Something went wrong."
    title = "Page not found" if status == 404 else detail
    return await render(request, "error.html", title, status_code=status, status=status)


async def health(request: Request) -> Response:
    """Liveness check without a session."""
    return Response("ok", media_type="text/plain")
