"""Starlette helpers: the current user, ``login_required``, ``require_recent_auth``.

For apps on ``websession.SessionMiddleware`` and an ``AsyncAuth``::

    web = WebAuth(auth)

    @web.login_required
    async def account(request):
        user = request.state.user
        ...

    @web.require_recent_auth(timedelta(minutes=5))
    async def delete_account(request): ...

A request that is not signed in is answered 401 with a JSON body
(``{"error": {"code": ..., "message": ...}}``) when the client did not ask for HTML,
and with a redirect (303) to ``AuthConfig.login_path?next=<path>`` (``next`` only for
GET and HEAD) and a flash message when it did (``Accept: text/html``, as browsers
send). The code says why: no session (``authentication_required``), or, when the
browser sent a cookie the middleware could not serve, ``session_expired``,
``session_revoked`` or ``invalid_session``; a login too old for a sensitive action is
``reauthentication_required``.

The user is loaded from the user store once per request (``request.state.user``), so a
deleted user loses access at once. Needs Starlette (the ``starlette`` extra, or
``fastapi``). Arguments are checked when a helper is built, not on each request.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from datetime import timedelta
from urllib.parse import quote, urlsplit

from websession.errors import ConfigError, StoreError, WebsessionError
from websession.extras import missing_extra

try:
    from starlette.requests import Request
    from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
except ImportError as exc:  # pragma: no cover - depends on the installed extras
    raise missing_extra("websession.auth.web", "auth,starlette") from exc

from websession.auth.devices import auth_time
from websession.auth.errors import (
    STORE_MESSAGE,
    AuthenticationRequired,
    AuthError,
    InvalidSession,
    ReauthenticationRequired,
    TooManyAttempts,
    error_json,
)
from websession.auth.service import AsyncAuth
from websession.auth.users import User
from websession.core.session import Session
from websession.integrations.asgi import get_session

__all__ = ["Endpoint", "WebAuth", "check_max_age", "client_info", "safe_next", "wants_html"]

Endpoint = Callable[[Request], Awaitable[Response]]

_NO_USER = object()


def client_info(request: Request) -> tuple[str | None, str | None]:
    """The client's address and user agent, as recorded at login.

    The address is the ASGI server's view of the peer: behind a reverse proxy, run
    the server so that it trusts the proxy's headers (uvicorn ``--proxy-headers``).
    """
    host = request.client.host if request.client is not None else None
    return host, request.headers.get("user-agent")


def wants_html(request: Request) -> bool:
    """True if the client asked for an HTML page (a browser navigation)."""
    return "text/html" in request.headers.get("accept", "")


def safe_next(value: object, default: str = "/") -> str:
    """``value`` if it is a path on this site, else ``default`` (no open redirects)."""
    if not isinstance(value, str) or not value.startswith("/") or value.startswith("//"):
        return default
    if "\\" in value or any(ord(c) < 32 for c in value) or urlsplit(value).netloc:
        return default
    return value


def check_max_age(max_age: object) -> timedelta | None:
    """``max_age`` if it is a ``timedelta`` (or None); else raise ConfigError now."""
    if max_age is None or isinstance(max_age, timedelta):
        return max_age
    raise ConfigError(
        f"max_age must be a datetime.timedelta (e.g. timedelta(seconds={max_age!r})) "
        f"or None, not {type(max_age).__name__}"
    )


class WebAuth:
    """Request-level auth for Starlette apps, on an ``AsyncAuth``."""

    def __init__(self, auth: AsyncAuth) -> None:
        if not isinstance(auth, AsyncAuth):
            raise ConfigError(
                f"WebAuth needs an AsyncAuth (the async service), not {type(auth).__name__}"
            )
        self.auth = auth
        self.config = auth.config

    # -- the current user ------------------------------------------------------------

    async def current_user(self, request: Request) -> User | None:
        """The signed-in user of this request, or None; loaded once per request."""
        cached: object = getattr(request.state, "user", _NO_USER)
        if cached is None or isinstance(cached, User):
            return cached
        user = await self.auth.user_of(get_session(request))
        request.state.user = user
        return user

    async def require_user(self, request: Request) -> User:
        """The signed-in user; else raise the AuthError that says why there is none."""
        user = await self.current_user(request)
        if user is None:
            raise await self._reason(request, get_session(request))
        return user

    async def check_recent_auth(self, request: Request, max_age: timedelta | None = None) -> User:
        """The user, if the password was proven in this session within ``max_age``
        (default ``AuthConfig.recent_auth_max_age``); else raise."""
        max_age = check_max_age(max_age)
        user = await self.require_user(request)
        limit = (
            max_age if max_age is not None else self.config.recent_auth_max_age
        ).total_seconds()
        proven = auth_time(get_session(request))
        if proven is None or self.auth.clock() - proven > limit:
            raise ReauthenticationRequired
        return user

    async def _reason(self, request: Request, session: Session) -> AuthError:
        cookie = request.cookies.get(self.auth.session_config.cookie_name)
        if session.user_id is not None:  # signed in, but the user is gone
            return InvalidSession()
        if not session.is_new or not cookie:
            return AuthenticationRequired()
        key = self.auth.credentials.signed_key(cookie)
        if key is None:  # forged or malformed: refused before any store read
            return InvalidSession()
        try:  # the middleware served a fresh session: say why the old one was refused
            await self.auth.authenticate_session(key=key)
        except InvalidSession as exc:
            return exc
        return AuthenticationRequired()

    # -- login and logout from a request ---------------------------------------------

    async def login(self, request: Request, username: str, password: str) -> User:
        """``AsyncAuth.login`` for this request's session, address and user agent."""
        ip, user_agent = client_info(request)
        user = await self.auth.login(
            get_session(request), username, password, ip=ip, user_agent=user_agent
        )
        request.state.user = user
        return user

    async def logout(self, request: Request, *, everywhere: bool = False) -> int:
        """``AsyncAuth.logout`` of this request's session."""
        revoked = await self.auth.logout(get_session(request), everywhere=everywhere)
        request.state.user = None
        return revoked

    # -- answers ---------------------------------------------------------------------

    def error_response(self, request: Request, exc: WebsessionError) -> Response:
        """The answer to an auth or store error: a redirect to the login page with a
        flash message for an HTML client that must log in, else JSON (a plain text
        page for an HTML client when a store failed)."""
        headers = {"cache-control": "no-store"}
        if isinstance(exc, TooManyAttempts):
            headers["retry-after"] = str(exc.retry_after)
        if isinstance(exc, StoreError):
            headers["retry-after"] = "1"
            if wants_html(request):
                return PlainTextResponse(STORE_MESSAGE, status_code=exc.status, headers=headers)
        elif wants_html(request) and exc.status == 401:
            assert isinstance(exc, AuthError)  # noqa: S101 - every 401 here is an AuthError
            get_session(request).flash(exc.message, "error")
            location = self.config.login_path
            if request.method in ("GET", "HEAD"):  # come back here after logging in
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                location += f"?next={quote(target, safe='/')}"
            return RedirectResponse(location, status_code=303, headers=headers)
        return JSONResponse(error_json(exc), status_code=exc.status, headers=headers)

    def login_required(self, endpoint: Endpoint) -> Endpoint:
        """Decorate a Starlette endpoint: only signed-in users reach it, and find
        themselves in ``request.state.user``."""
        if not callable(endpoint):
            raise ConfigError(f"login_required decorates an endpoint, not {endpoint!r}")

        @functools.wraps(endpoint)
        async def guarded(request: Request) -> Response:
            try:
                await self.require_user(request)
            except (AuthError, StoreError) as exc:
                return self.error_response(request, exc)
            return await endpoint(request)

        return guarded

    def require_recent_auth(
        self, max_age: timedelta | None = None
    ) -> Callable[[Endpoint], Endpoint]:
        """Decorate a sensitive endpoint: the password must have been proven in this
        session within ``max_age`` (default ``AuthConfig.recent_auth_max_age``).

        Use it with parentheses: ``@web.require_recent_auth()``."""
        max_age = check_max_age(max_age)

        def decorate(endpoint: Endpoint) -> Endpoint:
            @functools.wraps(endpoint)
            async def guarded(request: Request) -> Response:
                try:
                    await self.check_recent_auth(request, max_age)
                except (AuthError, StoreError) as exc:
                    return self.error_response(request, exc)
                return await endpoint(request)

            return guarded

        return decorate

    async def handle_error(self, request: Request, exc: Exception) -> Response:
        """A Starlette exception handler for ``AuthError`` and ``StoreError``."""
        if not isinstance(exc, WebsessionError):  # pragma: no cover - registered for ours only
            raise exc
        return self.error_response(request, exc)
