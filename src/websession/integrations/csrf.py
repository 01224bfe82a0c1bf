"""CSRF protection for ASGI apps, and helpers to put the token in pages and scripts.

Add it *inside* ``SessionMiddleware`` (Starlette runs the last added outermost)::

    app.add_middleware(CSRFMiddleware, trusted_origins=["https://app.example.com"])
    app.add_middleware(SessionMiddleware, store="sqlite:///sessions.db", config=config)

Safe methods pass. Unsafe ones are decided by ``Sec-Fetch-Site`` and ``Origin`` when the
browser sends them, else by the session-bound token from the ``X-CSRF-Token`` header or
the ``_csrf`` field of an urlencoded or multipart form; the body is read (up to
``max_body_size``) and replayed intact to the app. A rejection answers 403 (JSON for
JSON clients, a short page otherwise) and is logged as a warning, without the token.
"""

from __future__ import annotations

import hmac
import html
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import orjson

from websession.core.cookies import SetCookie, cookie_values
from websession.core.csrf import (
    SAFE_METHODS,
    CSRFPolicy,
    Decision,
    Origin,
    Verdict,
    is_form,
    mask,
    parse_host,
    session_secret,
    session_token,
    token_from_form,
    unmask,
)
from websession.core.session import Session
from websession.integrations.asgi import (
    ASGIApp,
    Message,
    Receive,
    Scope,
    Send,
    SessionMiddleware,
    get_session,
)
from websession.integrations.websockets import OnForeignOrigin, WebSocketRules

__all__ = ["CSRFMiddleware", "csrf_input", "csrf_meta", "csrf_token"]

logger = logging.getLogger("websession.csrf")

DEFAULT_FIELD = "_csrf"
DEFAULT_HEADER = "x-csrf-token"


class CSRFMiddleware:
    """Rejects cross-site unsafe requests with 403; needs ``SessionMiddleware`` outside it.

    ``trusted_origins`` are other origins allowed to post here, each exactly
    ``scheme://host[:port]``. ``exempt_paths`` skip the check: an entry ending in ``/``
    is a prefix, any other an exact path; ``exempt(scope)`` can decide too.
    ``require_token`` demands the token even when ``Sec-Fetch-Site``/``Origin`` already
    vouch for the request. ``js_cookie`` names a cookie (not HttpOnly) that carries a
    freshly masked token, for scripts that send it back in the ``X-CSRF-Token`` header:
    set only on responses of a session that has a CSRF secret, when the request did not
    already carry a valid one, and never on a publicly cacheable response
    (``Cache-Control: public`` or ``s-maxage``).

    A WebSocket handshake (not exempt) whose ``Origin`` is missing or neither the app's
    own nor trusted gets an empty fresh session, or is refused with 1008, per
    ``websocket_on_foreign_origin`` (one action or path prefix to action; see
    ``integrations.websockets``).
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        trusted_origins: Sequence[str] = (),
        exempt_paths: Sequence[str] = (),
        exempt: Callable[[Scope], bool] | None = None,
        require_token: bool = False,
        header_name: str = DEFAULT_HEADER,
        field_name: str = DEFAULT_FIELD,
        max_body_size: int = 1024 * 1024,
        js_cookie: str | None = None,
        js_cookie_secure: bool = True,
        websocket_on_foreign_origin: OnForeignOrigin | Mapping[str, OnForeignOrigin] = "anonymous",
    ) -> None:
        self.app = app
        self.policy = CSRFPolicy(trusted_origins, require_token=require_token)
        self.websocket_rules = WebSocketRules(self.policy, websocket_on_foreign_origin)
        """Which WebSocket handshakes keep their session (``integrations.websockets``)."""
        self.exempt_prefixes = tuple(p for p in exempt_paths if p.endswith("/"))
        self.exempt_exact = frozenset(p for p in exempt_paths if not p.endswith("/"))
        self.exempt = exempt
        self.header_name = header_name.lower().encode("latin-1")
        self.field_name = field_name
        self.max_body_size = max_body_size
        if js_cookie is not None:
            SetCookie(js_cookie, "x")  # validates the name now, not on the first response
        self.js_cookie = js_cookie
        self.js_cookie_secure = js_cookie_secure

    def is_exempt(self, scope: Scope) -> bool:
        """True if this request skips the check."""
        path = scope.get("path", "")
        if path in self.exempt_exact or (
            self.exempt_prefixes and path.startswith(self.exempt_prefixes)
        ):
            return True
        return self.exempt is not None and self.exempt(scope)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and not self.is_exempt(scope):
            action = self.websocket_rules.action(scope)
            if action == "close":
                await send({"type": "websocket.close", "code": 1008})
                return
            session = scope.get("session")
            if action == "anonymous" and isinstance(session, Session):
                scope = dict(scope, session=type(session)())  # the app sees no session
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.js_cookie is not None:
            send = self._with_js_cookie(scope, send)
        method = str(scope.get("method", "GET")).upper()
        if method in SAFE_METHODS or self.is_exempt(scope):
            await self.app(scope, receive, send)
            return
        headers = _Headers(scope.get("headers", ()), self.header_name)
        decision = self.policy.check_headers(
            method, headers.sec_fetch_site, headers.origin, _own_origin(scope, headers.host)
        )
        if headers.duplicate_origin:
            decision = Decision(
                Verdict.REJECT, "origin", "The request's origin is not allowed here."
            )
        if decision.verdict is Verdict.UNDECIDED:
            session = self._session(scope)
            token: str | None = headers.token
            if token is None and is_form(headers.content_type):
                body = await self._read_body(receive, headers.content_length)
                if isinstance(body, Decision):
                    decision = body
                else:
                    receive = _replay(body, receive)
                    token = token_from_form(headers.content_type, body, self.field_name)
            if decision.verdict is Verdict.UNDECIDED:
                decision = self.policy.check_token(session, token)
        if not decision.allowed:
            logger.warning(
                "CSRF check failed (%s): %s %r", decision.reason, method, scope.get("path", "")
            )
            await _send_rejection(send, headers, decision)
            return
        await self.app(scope, receive, send)

    async def _read_body(self, receive: Receive, declared: int | None) -> bytes | Decision:
        too_large = Decision(
            Verdict.REJECT, "body_too_large", "The form is too large to check for a CSRF token."
        )
        if declared is not None and declared > self.max_body_size:
            return too_large
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message.get("type") != "http.request":
                return Decision(
                    Verdict.REJECT, "body_unreadable", "The request body could not be read."
                )
            chunk = message.get("body", b"")
            if not isinstance(chunk, bytes | bytearray):
                return Decision(
                    Verdict.REJECT, "body_unreadable", "The request body could not be read."
                )
            size += len(chunk)
            if size > self.max_body_size:
                return too_large
            chunks.append(bytes(chunk))
            if not message.get("more_body", False):
                return b"".join(chunks)

    def _session(self, scope: Scope) -> Session:
        """The request's session; without one, an error that says what is wrong."""
        session = scope.get("session")
        if isinstance(session, Session):
            return session
        if _wraps_session_middleware(self.app):
            raise RuntimeError(
                "CSRFMiddleware runs outside SessionMiddleware, so the session is not "
                "loaded yet: the middleware order is wrong. Add CSRFMiddleware before "
                "SessionMiddleware (add_middleware runs the last added outermost)"
            )
        return get_session(scope)

    def _with_js_cookie(self, scope: Scope, send: Send) -> Send:
        name = self.js_cookie
        assert name is not None  # noqa: S101 - only wrapped when configured
        secure = self.js_cookie_secure

        async def send_with_token(message: Message) -> None:
            if message["type"] == "http.response.start":
                session = scope.get("session")
                secret = session_secret(session) if isinstance(session, Session) else None
                headers = list(message.get("headers", ()))
                if (
                    secret is not None
                    and not _publicly_cacheable(headers)
                    and not _browser_holds(scope, name, secret)
                ):
                    cookie = SetCookie(
                        name, mask(secret), path="/", secure=secure, same_site="strict"
                    )
                    headers.append((b"set-cookie", cookie.render().encode("latin-1")))
                    message["headers"] = headers
            await send(message)

        return send_with_token


def _wraps_session_middleware(app: object) -> bool:
    """True if a ``SessionMiddleware`` runs inside ``app`` (middlewares keep the app
    they wrap in ``.app``)."""
    for _ in range(64):
        if isinstance(app, SessionMiddleware):
            return True
        app = getattr(app, "app", None)
        if app is None:
            return False
    return False


class _Headers:
    """The request headers the check reads; repeated ones are noticed, not merged."""

    __slots__ = (
        "accept",
        "content_length",
        "content_type",
        "duplicate_origin",
        "host",
        "origin",
        "sec_fetch_site",
        "token",
    )

    def __init__(self, raw: Any, token_header: bytes) -> None:
        self.duplicate_origin = False
        values: dict[bytes, str] = {}
        for name, value in raw:
            if name == b"origin" and name in values:
                self.duplicate_origin = True
            values.setdefault(name, value.decode("latin-1"))
        self.accept = values.get(b"accept")
        self.content_type = values.get(b"content-type")
        self.host = values.get(b"host")
        self.origin = values.get(b"origin")
        self.sec_fetch_site = values.get(b"sec-fetch-site")
        self.token = values.get(token_header)
        self.content_length: int | None = None
        length = values.get(b"content-length", "").strip()
        if length.isascii() and length.isdigit() and len(length) < 20:
            self.content_length = int(length)

    @property
    def wants_json(self) -> bool:
        """True if the client asked for or sent JSON."""
        return "json" in (self.accept or "") or "json" in (self.content_type or "")


def _publicly_cacheable(headers: list[tuple[bytes, bytes]]) -> bool:
    """True if a shared cache may keep this response (``public`` or ``s-maxage``)."""
    for name, value in headers:
        if name.lower() == b"cache-control":
            for directive in value.decode("latin-1").lower().split(","):
                if directive.strip().partition("=")[0].strip() in ("public", "s-maxage"):
                    return True
    return False


def _browser_holds(scope: Scope, name: str, secret: bytes) -> bool:
    """True if the request already carries a script cookie for this session's secret."""
    headers = [v.decode("latin-1") for n, v in scope.get("headers", ()) if n == b"cookie"]
    return any(
        held is not None and hmac.compare_digest(held, secret)
        for held in map(unmask, cookie_values(headers, name))
    )


def _own_origin(scope: Scope, host: str | None) -> Origin | None:
    scheme = str(scope.get("scheme", "http"))
    if host is not None:
        return parse_host(host, scheme)
    server = scope.get("server")
    if server is None:
        return None
    address, port = server
    return parse_host(f"{address}:{port}" if port is not None else str(address), scheme)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _send_rejection(send: Send, headers: _Headers, decision: Decision) -> None:
    if headers.wants_json:
        body = orjson.dumps(
            {
                "error": {
                    "code": "csrf_failed",
                    "reason": decision.reason,
                    "message": decision.message,
                }
            }
        )
        content_type = b"application/json"
    else:
        body = (
            "<!doctype html><html><head><title>403 Forbidden</title></head><body>"
            f"<h1>Forbidden</h1><p>{html.escape(decision.message)}</p></body></html>"
        ).encode()
        content_type = b"text/html; charset=utf-8"
    await send(
        {
            "type": "http.response.start",
            "status": 403,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", str(len(body)).encode()),
                (b"cache-control", b"no-store"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


# -- helpers for pages and scripts ---------------------------------------------------


def csrf_token(request_or_scope: Any) -> str:
    """Return a freshly masked CSRF token for this request's session.

    Creates the session's secret on first use (the session is then saved).
    """
    return session_token(get_session(request_or_scope))


def csrf_input(request_or_scope: Any, field_name: str = DEFAULT_FIELD) -> str:
    """Return a hidden ``<input>`` carrying the token, for an HTML form."""
    token = csrf_token(request_or_scope)
    return f'<input type="hidden" name="{html.escape(field_name)}" value="{html.escape(token)}">'


def csrf_meta(request_or_scope: Any) -> str:
    """Return ``<meta name="csrf-token" content="…">`` for scripts to read and send back
    in the ``X-CSRF-Token`` header."""
    return f'<meta name="csrf-token" content="{html.escape(csrf_token(request_or_scope))}">'
