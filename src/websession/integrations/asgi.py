"""Pure ASGI session middleware: ``request.session`` for Starlette, FastAPI, any ASGI app.

Per request: no store I/O without a validly signed cookie; one read (before the app
runs, so ``scope["session"]`` is a plain synchronous mapping) when there is one; and
one write, done when the app starts its response, only if the engine asks for one.
A store failure answers 503 and is logged without the token; the app's own response
is then dropped.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Iterable, MutableMapping, Sequence
from typing import Any

import orjson

from websession.backends.cookie import (
    CookieBackend,
    CookieState,
    open_cookie_backend,
    resolve_config,
)
from websession.config import SessionConfig
from websession.core.cookies import SetCookie
from websession.core.engine import Op, SessionEngine
from websession.core.session import Session
from websession.errors import SessionDataError, StoreError, WebsessionError
from websession.integrations.saving import save_async
from websession.stores import open_async_store
from websession.stores.base import AsyncStore
from websession.types import Clock, Record

__all__ = ["ASGIApp", "SessionMiddleware", "get_session"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

logger = logging.getLogger("websession")

DEFAULT_STORE = "sqlite:///sessions.db"


class SessionMiddleware:
    """Server-side sessions for an ASGI app; fills ``scope["session"]``.

    ``store`` is a store URL (see ``websession.stores``), an ``AsyncStore``, or for
    client-side sessions ``"cookie://"`` or a ``CookieBackend`` (which then carries the
    config; see ``websession.backends.cookie``). ``config`` defaults to
    ``SessionConfig.from_env(os.environ)``. Paths starting with one of
    ``exclude_paths`` (static files, health checks) get no session and no I/O.
    """

    def __init__(
        self,
        app: ASGIApp,
        store: str | AsyncStore | CookieBackend = DEFAULT_STORE,
        config: SessionConfig | None = None,
        *,
        exclude_paths: Sequence[str] = (),
        clock: Clock = time.time,
    ) -> None:
        self.app = app
        self.config = resolve_config(store, config)
        self.engine = SessionEngine(self.config, clock)
        self.cookie_backend: CookieBackend | None = None
        if isinstance(store, str) and store.lower().startswith("cookie:"):
            store = open_cookie_backend(store, self.config, clock=clock)
        self.store: AsyncStore | None
        if isinstance(store, CookieBackend):
            self.cookie_backend = store
            self.store = store.revocations
        else:
            self.store = open_async_store(store) if isinstance(store, str) else store
        self.exclude_paths = tuple(exclude_paths)

    async def _open(self, scope: Scope) -> tuple[Session, CookieState | None]:
        """Load this request's session (store I/O only as the docstring says), with the
        cookie backend's state when that backend is in use."""
        headers = _cookie_headers(scope["headers"])
        backend = self.cookie_backend
        if backend is not None:
            state = await backend.load(headers)
            return state.session, state
        verified = self.engine.verify(headers) if headers else None
        record: Record | None = None
        if verified is not None:
            record = await self.store.load(verified.key)  # type: ignore[union-attr]
        return self.engine.open(verified, record), None

    async def _save(self, session: Session, state: CookieState | None) -> SetCookie | None:
        """The request's one write, if the engine (or the cookie backend) asks for one;
        return the cookie to send."""
        if state is not None:
            return await self.cookie_backend.save(state)  # type: ignore[union-attr]
        outcome = self.engine.finish(session)
        if outcome.op is Op.NOTHING:  # no store call
            return outcome.cookie
        return await save_async(self.store, outcome)  # type: ignore[arg-type]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind not in ("http", "websocket") or (
            self.exclude_paths and scope.get("path", "").startswith(self.exclude_paths)
        ):
            await self.app(scope, receive, send)
            return
        try:
            session, state = await self._open(scope)
        except StoreError as exc:
            _log_failure("load", exc)
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
                try:
                    cookie = await self._save(session, state)
                except (StoreError, SessionDataError) as exc:
                    _log_failure("save", exc)
                    replaced = True
                    await _send_error(send, scope, exc)
                    return
                if cookie is None and not session.accessed:  # nothing to add
                    await send(message)
                    return
                headers = list(message.get("headers", ()))
                if cookie is not None:
                    headers.append((b"set-cookie", cookie.render().encode("latin-1")))
                    _set_header(headers, b"cache-control", b"no-store")
                if cookie is not None or session.accessed:
                    _add_vary_cookie(headers)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_session)


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


def _cookie_headers(raw: Iterable[tuple[bytes, bytes]]) -> list[str]:
    return [value.decode("latin-1") for name, value in raw if name == b"cookie"]


def _set_header(headers: list[tuple[bytes, bytes]], name: bytes, value: bytes) -> None:
    headers[:] = [(n, v) for n, v in headers if n.lower() != name]
    headers.append((name, value))


def _add_vary_cookie(headers: list[tuple[bytes, bytes]]) -> None:
    for index, (name, value) in enumerate(headers):
        if name.lower() == b"vary":
            if b"cookie" not in value.lower() and value.strip() != b"*":
                headers[index] = (name, value + b", Cookie")
            return
    headers.append((b"vary", b"Cookie"))


def _log_failure(step: str, exc: WebsessionError) -> None:
    cause = exc.__cause__
    reason = f"{type(cause).__name__}: {cause}" if cause is not None else ""
    logger.error("websession %s failed: %s %s", step, exc, reason)


async def _send_error(send: Send, scope: Scope, exc: WebsessionError) -> None:
    status = exc.status
    if status >= 500 and isinstance(exc, StoreError):
        message = "The session store is unavailable. Please try again shortly."
    else:
        message = "The session could not be saved."
    accept = b""
    for name, value in scope.get("headers", ()):
        if name == b"accept":
            accept = value
    if b"json" in accept:
        body = orjson.dumps({"error": {"code": exc.code, "message": message}})
        content_type = b"application/json"
    else:
        body = message.encode()
        content_type = b"text/plain; charset=utf-8"
    headers = [
        (b"content-type", content_type),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"),
    ]
    if isinstance(exc, StoreError):
        headers.append((b"retry-after", b"1"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
