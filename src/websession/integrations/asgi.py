"""Pure ASGI session middleware: ``request.session`` for Starlette, FastAPI, any ASGI app.

The backend opens the session before the app runs (so ``scope["session"]`` is a plain
synchronous mapping) and saves it when the app starts its response; with a store that
is no I/O without a validly signed cookie, one read with one, one write if needed. A
failure answers with the error's status (``integrations.failures``) instead of the app.
A request whose app raises, or answers 500 or more, saves nothing and sends no cookie
(``SessionConfig.save_on_error``).
"""

from __future__ import annotations

import enum
import time
from collections.abc import Awaitable, Callable, Mapping, MutableMapping, Sequence
from typing import Any, Literal

from websession.backends import AsyncSessionBackend, open_async_backend
from websession.backends.base import is_cookie_url
from websession.config import SessionConfig
from websession.config_compat import starlette_settings
from websession.core.csrf import CSRFPolicy
from websession.core.lifecycle import Lifecycle
from websession.core.session import Session
from websession.errors import ConfigError, SessionDataError, StoreError, WebsessionError
from websession.integrations.failures import error_response, log_failure
from websession.integrations.headers import response_headers
from websession.integrations.paths import matches_any
from websession.integrations.websockets import OnForeignOrigin, WebSocketRules
from websession.stores.base import AsyncStore
from websession.types import Clock

__all__ = ["ASGIApp", "SessionMiddleware", "get_session"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

DEFAULT_STORE = "sqlite:///sessions.db"


class _Unset(enum.Enum):
    UNSET = "unset"  # Starlette's max_age=None means something: "not given" is this


_UNSET = _Unset.UNSET


class SessionMiddleware:
    """Sessions for an ASGI app; fills ``scope["session"]``.

    ``store`` is a store URL (see ``websession.stores``; ``"cookie://"`` for encrypted
    cookie sessions), an ``AsyncStore``, or a backend such as ``CookieBackend`` (which
    then carries the config). ``config`` defaults to ``SessionConfig.from_env(os.environ)``.
    Paths at or below one of ``exclude_paths`` (static files, health checks; matched by
    whole segments) get no session and no I/O.

    A WebSocket handshake gets its session only when its ``Origin`` is the app's own
    or one of ``trusted_origins`` (exactly ``scheme://host[:port]``); otherwise, per
    ``websocket_on_foreign_origin`` (one action, or path prefix to action):
    ``"anonymous"`` an empty fresh session, ``"close"`` refused with 1008, ``"allow"``
    no check (``integrations.websockets``).

    Starlette's own arguments (``secret_key``, ``session_cookie``, ``max_age``,
    ``path``, ``same_site``, ``https_only``, ``domain``, ``partitioned``) are accepted
    instead of ``config``, with Starlette's meaning (``config_compat.starlette_settings``),
    so replacing Starlette's import is the whole switch.
    """

    def __init__(
        self,
        app: ASGIApp,
        store: str | AsyncStore | AsyncSessionBackend = DEFAULT_STORE,
        config: SessionConfig | None = None,
        *,
        exclude_paths: Sequence[str] = (),
        clock: Clock = time.time,
        secret_key: Any = None,
        session_cookie: str | None = None,
        max_age: int | _Unset | None = _UNSET,
        path: str | None = None,
        same_site: Literal["lax", "strict", "none"] | None = None,
        https_only: bool | None = None,
        domain: str | None = None,
        partitioned: bool | None = None,
        trusted_origins: Sequence[str] = (),
        websocket_on_foreign_origin: OnForeignOrigin | Mapping[str, OnForeignOrigin] = "anonymous",
    ) -> None:
        if isinstance(store, str) and "://" not in store and not is_cookie_url(store):
            # never echo it: it may be Starlette's secret key, given positionally
            raise ConfigError(
                "SessionMiddleware's store must be a store URL such as "
                "'sqlite:///sessions.db'; give Starlette's secret key as secret_key=..."
            )
        given = {
            name: value
            for name, value in (
                ("secret_key", secret_key),
                ("session_cookie", session_cookie),
                ("path", path),
                ("same_site", same_site),
                ("https_only", https_only),
                ("domain", domain),
                ("partitioned", partitioned),
            )
            if value is not None
        }
        if max_age is not _UNSET:
            given["max_age"] = max_age
        if given:
            config = _starlette_config(given, config)
        self.app = app
        self.backend = open_async_backend(store, config, clock=clock)
        """Where sessions are kept (``websession.backends``)."""
        self.config = self.backend.config
        self._fresh: Callable[[], Session] | None = getattr(self.backend, "fresh", None)
        """Our backends' no-I/O open for a request without cookies; with it, a session
        that stays new and empty skips the save (another backend gets every call)."""
        self.exclude_paths = tuple(exclude_paths)
        self.websocket_rules = WebSocketRules(
            CSRFPolicy(trusted_origins), websocket_on_foreign_origin
        )
        """Which WebSocket handshakes get their session (``integrations.websockets``)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if (kind != "http" and kind != "websocket") or (
            self.exclude_paths and matches_any(scope.get("path", ""), self.exclude_paths)
        ):
            await self.app(scope, receive, send)
            return
        cookies = [value.decode("latin-1") for name, value in scope["headers"] if name == b"cookie"]
        backend = self.backend
        if kind == "websocket":
            action = self.websocket_rules.action(scope)
            if action == "close":
                await send({"type": "websocket.close", "code": 1008})
                return
            if action == "anonymous":
                cookies = []  # an empty fresh session: no store read
        fresh = self._fresh
        try:
            session = fresh() if fresh is not None and not cookies else await backend.open(cookies)
        except StoreError as exc:
            log_failure("load", exc)
            if kind == "http":
                await _send_error(send, scope, exc)
            else:
                await send({"type": "websocket.close", "code": 1011})
            return
        scope["session"] = session
        if kind == "websocket":  # no response headers to carry a cookie: read-only
            await self.app(scope, receive, send)
            return

        replaced = False

        async def send_with_session(message: Message) -> None:
            nonlocal replaced
            if replaced:
                return
            if message["type"] == "http.response.start":
                if fresh is not None and not session.accessed and Lifecycle.leaves_nothing(session):
                    await send(message)  # untouched: no store call, no header
                    return
                accessed = session.accessed  # before the save reads the session itself
                cookie = None
                if message.get("status", 200) < 500 or self.config.save_on_error:
                    try:
                        cookie = await self.backend.save(session)
                    except (StoreError, SessionDataError) as exc:
                        log_failure("save", exc)
                        replaced = True
                        await _send_error(send, scope, exc)
                        return
                    finally:
                        session.accessed = accessed  # the save's own reads are not the app's
                private = session.bound_to_user
                if cookie is not None:
                    message["headers"] = response_headers(
                        list(message.get("headers", ())),
                        cookie.render().encode("latin-1"),
                        vary=True,
                        private=private,
                    )
                elif accessed or private:
                    message["headers"] = response_headers(
                        list(message.get("headers", ())), None, vary=accessed, private=private
                    )
            await send(message)

        await self.app(scope, receive, send_with_session)


def _starlette_config(arguments: dict[str, Any], config: SessionConfig | None) -> SessionConfig:
    if config is not None:
        raise ConfigError("pass config= or Starlette's arguments, not both")
    if "secret_key" not in arguments:
        raise ConfigError("secret_key is required with Starlette's arguments (32 bytes or more)")
    return starlette_settings(**arguments)


def get_session(request_or_scope: Any) -> Session:
    """Return the ``Session`` of a Starlette/FastAPI request or an ASGI scope.

    Raises RuntimeError if no websession middleware handled this request.
    """
    scope = getattr(request_or_scope, "scope", request_or_scope)
    session = scope.get("session") if isinstance(scope, MutableMapping) else None
    if not isinstance(session, Session):
        raise RuntimeError(
            "no websession session on this request: add websession.SessionMiddleware "
            "(and check the path is not in exclude_paths)"
        )
    return session


async def _send_error(send: Send, scope: Scope, exc: WebsessionError) -> None:
    accept = [v.decode("latin-1") for n, v in scope.get("headers", ()) if n == b"accept"]
    error = error_response(exc, accept[-1] if accept else "")
    headers = [(n.encode(), v.encode("latin-1")) for n, v in error.headers]
    await send({"type": "http.response.start", "status": error.status, "headers": headers})
    await send({"type": "http.response.body", "body": error.body})
