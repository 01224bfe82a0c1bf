"""Flask integration: ``flask.session`` backed by a websession store, no event loop.

    from websession.integrations.flask import init_app
    init_app(app, store="sqlite:///sessions.db", config=SessionConfig.production(secret=...))

``flask.session`` stays a plain mapping (``flask.flash`` works and shares its
``_flashes`` format with the ASGI side); ``get_session()`` returns it typed, with
``regenerate()``, ``destroy()`` and ``user_id``. The sync store is called directly. A
store failure answers 503; records are the same as the ASGI middleware's, so a Flask
app and an ASGI app with the same config and store share sessions.

Client-side sessions: ``init_app(app, store="cookie://", config=...)`` (or
``"cookie://?revocations=<store URL>"``, or a ``SyncCookieBackend``) keeps the session
in the same encrypted cookie as the ASGI side; ``interface.cookie_backend.revoke_user``
logs a user out everywhere.
"""

from __future__ import annotations

import html
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar, cast

import orjson
from flask import Flask, abort, g, request
from flask import session as flask_session
from flask.sessions import SessionInterface, SessionMixin
from flask.wrappers import Request, Response

from websession.backends.cookie import (
    CookieBackend,
    CookieState,
    SyncCookieBackend,
    open_sync_cookie_backend,
    resolve_config,
)
from websession.config import SessionConfig
from websession.core.csrf import (
    SAFE_METHODS,
    CSRFPolicy,
    Decision,
    Verdict,
    is_form,
    parse_host,
    session_token,
)
from websession.core.engine import SessionEngine
from websession.core.session import Session
from websession.errors import ConfigError, SessionDataError, StoreError, WebsessionError
from websession.integrations.saving import save
from websession.stores import open_store
from websession.stores.base import Store
from websession.types import Clock, Record

__all__ = [
    "FlaskSession",
    "WebsessionInterface",
    "csrf_exempt",
    "csrf_token",
    "get_session",
    "init_app",
    "init_csrf",
]

logger = logging.getLogger("websession")

_FAILED = "_websession_failure"
_COOKIE_STATE = "_websession_cookie_state"


class FlaskSession(Session, SessionMixin):
    """A websession ``Session`` that Flask accepts as ``flask.session``."""

    @property
    def new(self) -> bool:  # type: ignore[override]
        """True until the session exists in the store."""
        return self.is_new

    @property
    def permanent(self) -> bool:
        """Whether the cookie outlives the browser session (from the config)."""
        return True

    @permanent.setter
    def permanent(self, value: bool) -> None:
        """Ignored: ``SessionConfig.permanent`` decides, for every session alike."""


class WebsessionInterface(SessionInterface):
    """Flask ``SessionInterface`` over a sync websession store or the cookie backend.

    ``store`` is a store URL, a sync ``Store``, or for client-side sessions
    ``"cookie://"`` or a ``SyncCookieBackend`` (which then carries the config).
    ``config`` defaults to ``SessionConfig.from_env(os.environ)``.
    """

    def __init__(
        self,
        store: str | Store | SyncCookieBackend,
        config: SessionConfig | None = None,
        *,
        exclude_paths: tuple[str, ...] = (),
        clock: Clock = time.time,
    ) -> None:
        if isinstance(store, CookieBackend):
            raise ConfigError(
                "CookieBackend is the async driver: give Flask a SyncCookieBackend "
                "(same arguments) or store='cookie://'"
            )
        self.config = resolve_config(store, config)
        self.engine = SessionEngine(self.config, clock)
        self.cookie_backend: SyncCookieBackend | None = None
        if isinstance(store, str) and store.lower().startswith("cookie:"):
            store = open_sync_cookie_backend(store, self.config, clock=clock)
        self.store: Store | None
        if isinstance(store, SyncCookieBackend):
            self.cookie_backend = store
            self.store = store.revocations
        else:
            self.store = open_store(store) if isinstance(store, str) else store
        self.exclude_paths = exclude_paths

    def open_session(self, app: Flask, request: Request) -> FlaskSession | None:
        """Verify the cookie (no I/O if it is absent or forged), then one store read."""
        if self.exclude_paths and request.path.startswith(self.exclude_paths):
            return None
        cookie = request.environ.get("HTTP_COOKIE")
        headers = [cookie] if cookie else []
        backend = self.cookie_backend
        try:
            if backend is not None:  # one revocation read, only for a user-bound cookie
                state = backend.load(headers, FlaskSession)
                setattr(g, _COOKIE_STATE, state)
                return cast(FlaskSession, state.session)
            verified = self.engine.verify(headers)
            record: Record | None = None
            if verified is not None:
                record = self.store.load(verified.key)  # type: ignore[union-attr]
        except StoreError as exc:
            _log("load", exc)
            setattr(g, _FAILED, exc)  # refuse_if_the_store_failed answers 503
            return FlaskSession()
        return self.engine.open(verified, record, FlaskSession)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        """One store write if the engine asks for one; 503 on a store failure."""
        if not isinstance(session, FlaskSession) or g.get(_FAILED) is not None:
            return
        try:
            if self.cookie_backend is not None:
                state: CookieState | None = g.get(_COOKIE_STATE)
                if state is None or state.session is not session:
                    return
                cookie = self.cookie_backend.save(state)
            else:
                cookie = save(self.store, self.engine.finish(session))  # type: ignore[arg-type]
        except (StoreError, SessionDataError) as exc:
            _log("save", exc)
            _replace_with_error(response, exc)
            return
        if cookie is not None:
            response.headers.add("Set-Cookie", cookie.render())
            response.headers["Cache-Control"] = "no-store"
        if cookie is not None or session.accessed:
            response.vary.add("Cookie")


def _log(step: str, exc: WebsessionError) -> None:
    cause = exc.__cause__
    reason = f"{type(cause).__name__}: {cause}" if cause is not None else ""
    logger.error("websession %s failed: %s %s", step, exc, reason)


def _replace_with_error(response: Response, exc: WebsessionError) -> None:
    if isinstance(exc, StoreError):
        message = "The session store is unavailable. Please try again shortly."
        response.headers["Retry-After"] = "1"
    else:
        message = "The session could not be saved."
    response.status_code = exc.status
    response.set_data(message)
    response.mimetype = "text/plain"
    response.headers.remove("Set-Cookie")
    response.headers["Cache-Control"] = "no-store"


def init_app(
    app: Flask,
    store: str | Store | SyncCookieBackend = "sqlite:///sessions.db",
    config: SessionConfig | None = None,
    *,
    exclude_paths: tuple[str, ...] = (),
    clock: Clock = time.time,
) -> WebsessionInterface:
    """Install websession as ``app.session_interface``; return the interface.

    ``store`` is a store URL, a sync ``Store``, ``"cookie://"`` (optionally
    ``"cookie://?revocations=<url-encoded store URL>"``) or a ``SyncCookieBackend``.
    ``config`` defaults to ``SessionConfig.from_env(os.environ)`` (or the backend's).
    """
    interface = WebsessionInterface(store, config, exclude_paths=exclude_paths, clock=clock)
    app.session_interface = interface

    def refuse_if_the_store_failed() -> None:
        if g.get(_FAILED) is not None:
            abort(503, description="The session store is unavailable. Please try again shortly.")

    app.before_request_funcs.setdefault(None, []).insert(0, refuse_if_the_store_failed)
    return interface


def get_session() -> FlaskSession:
    """Return ``flask.session`` as a websession ``FlaskSession``."""
    session: Any = flask_session._get_current_object()  # type: ignore[attr-defined]
    if not isinstance(session, FlaskSession):
        raise RuntimeError("flask.session is not a websession session: call init_app(app)")
    return session


# -- CSRF: the same policy as the ASGI middleware -------------------------------------

_View = TypeVar("_View", bound=Callable[..., Any])
_EXEMPT = "_websession_csrf_exempt"
_csrf_logger = logging.getLogger("websession.csrf")


def csrf_exempt(view: _View) -> _View:
    """Mark a view as exempt from the CSRF check (webhooks, token-authenticated APIs)."""
    setattr(view, _EXEMPT, True)
    return view


def csrf_token() -> str:
    """Return a freshly masked CSRF token for this request's session (Jinja global)."""
    return session_token(get_session())


def init_csrf(
    app: Flask,
    *,
    trusted_origins: Sequence[str] = (),
    require_token: bool = False,
    header_name: str = "X-CSRF-Token",
    field_name: str = "_csrf",
) -> CSRFPolicy:
    """Check every unsafe request as ``websession.CSRFMiddleware`` does; call after
    ``init_app``. Adds ``csrf_token()`` to Jinja. A rejection aborts with 403."""
    policy = CSRFPolicy(trusted_origins, require_token=require_token)
    app.jinja_env.globals["csrf_token"] = csrf_token

    def check_csrf() -> Response | None:
        if request.method.upper() in SAFE_METHODS or g.get(_FAILED) is not None:
            return None
        view = app.view_functions.get(request.endpoint or "")
        if view is not None and getattr(view, _EXEMPT, False):
            return None
        origins = request.headers.getlist("Origin")
        decision = policy.check_headers(
            request.method,
            request.headers.get("Sec-Fetch-Site"),
            origins[0] if origins else None,
            parse_host(request.host, request.scheme),
        )
        if len(origins) > 1:
            decision = Decision(
                Verdict.REJECT, "origin", "The request's origin is not allowed here."
            )
        if decision.verdict is Verdict.UNDECIDED:
            token = request.headers.get(header_name)
            if token is None and is_form(request.content_type):
                token = request.form.get(field_name)
            current: Any = flask_session._get_current_object()  # type: ignore[attr-defined]
            session = current if isinstance(current, FlaskSession) else None
            decision = policy.check_token(session, token)
        if decision.allowed:
            return None
        _csrf_logger.warning(
            "CSRF check failed (%s): %s %r", decision.reason, request.method, request.path
        )
        return _csrf_rejection(decision)

    app.before_request_funcs.setdefault(None, []).append(check_csrf)
    return policy


def _csrf_rejection(decision: Decision) -> Response:
    wants_json = "json" in (request.headers.get("Accept") or "") or request.is_json
    if wants_json:
        body: dict[str, Any] = {
            "error": {"code": "csrf_failed", "reason": decision.reason, "message": decision.message}
        }
        response = Response(orjson.dumps(body), status=403, mimetype="application/json")
    else:
        response = Response(
            "<!doctype html><html><head><title>403 Forbidden</title></head><body>"
            f"<h1>Forbidden</h1><p>{html.escape(decision.message)}</p></body></html>",
            status=403,
            mimetype="text/html",
        )
    response.headers["Cache-Control"] = "no-store"
    return response
