"""FastAPI dependencies: ``current_user``, ``require_user``, ``require_recent_auth``.

::

    from fastapi import Depends, FastAPI
    from websession.auth.fastapi import FastAPIAuth

    app = FastAPI()
    app.add_middleware(SessionMiddleware, store=sessions, config=config)
    users = FastAPIAuth(auth, app)      # registers the error handlers on app

    @app.get("/me")
    async def me(user: User = Depends(users.require_user)) -> dict[str, str]: ...

    @app.post("/account/delete")
    async def delete(user: User = Depends(users.require_recent_auth(timedelta(minutes=5)))): ...

Refusals are raised as ``AuthError`` and answered by the registered handler exactly as
``websession.auth.web`` answers them: 401 JSON for API clients, a redirect to the login
page with a flash message for browsers. This module imports FastAPI; nothing else in
websession does.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

from websession.errors import StoreError
from websession.extras import missing_extra

try:
    from fastapi import FastAPI, Request
except ImportError as exc:  # pragma: no cover - depends on the installed extras
    raise missing_extra("websession.auth.fastapi", "auth,fastapi") from exc

from websession.auth.errors import AuthError
from websession.auth.service import AsyncAuth
from websession.auth.users import User
from websession.auth.web import WebAuth, check_max_age

__all__ = ["FastAPIAuth"]


class FastAPIAuth:
    """Dependencies over an ``AsyncAuth``; pass ``app`` to register the error handlers."""

    def __init__(self, auth: AsyncAuth, app: FastAPI | None = None) -> None:
        self.web = WebAuth(auth)
        """The Starlette helpers these dependencies are built on."""
        if app is not None:
            self.install(app)

    def install(self, app: FastAPI) -> None:
        """Answer ``AuthError`` and ``StoreError`` raised in ``app`` (401 JSON, a login
        redirect for browsers, 503 for a failed store)."""
        app.add_exception_handler(AuthError, self.web.handle_error)
        app.add_exception_handler(StoreError, self.web.handle_error)

    async def current_user(self, request: Request) -> User | None:
        """Dependency: the signed-in user, or None."""
        return await self.web.current_user(request)

    async def require_user(self, request: Request) -> User:
        """Dependency: the signed-in user; refuses the request otherwise."""
        return await self.web.require_user(request)

    def require_recent_auth(
        self, max_age: timedelta | None = None
    ) -> Callable[[Request], Awaitable[User]]:
        """Dependency factory: the user, if the password was proven in this session
        within ``max_age`` (default ``AuthConfig.recent_auth_max_age``); ``max_age`` is
        checked here, not on each request."""
        max_age = check_max_age(max_age)
        web = self.web

        async def recent_user(request: Request) -> User:
            return await web.check_recent_auth(request, max_age)

        return recent_user
