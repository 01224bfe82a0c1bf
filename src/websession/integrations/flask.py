"""Flask integration: ``flask.session`` backed by a websession backend, no event loop.

    from websession.integrations.flask import init_app
    init_app(app, store="sqlite:///sessions.db", config=SessionConfig.production(secret=...))

``flask.session`` stays a ``dict`` (``flask.flash`` works and shares its ``_flashes``
format with the ASGI side; values round-trip in Flask's tagged JSON); ``get_session()``
returns it typed, with ``regenerate()``, ``destroy()`` and ``user_id``. Without
``config=``, Flask's own settings are read (``config_compat.flask_settings``). The
backend's sync driver is called directly. A failure answers with the error's status
(503 for the store, 413 for a session too large); records and cookies are the ASGI
middleware's, so a Flask app and an ASGI app with the same config and store share
sessions.

Client-side sessions: ``init_app(app, store="cookie://", config=...)`` (or
``"cookie://?revocations=<store URL>"``, or a ``SyncCookieBackend``) keeps the session
in the same encrypted cookie as the ASGI side; ``interface.cookie_backend.revoke_user``
logs a user out everywhere.
"""

from __future__ import annotations

import html
import logging
import os
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar, cast

import orjson

from websession.errors import SessionDataError, StoreError, WebsessionError
from websession.extras import missing_extra

try:
    from flask import Flask, g, request
    from flask import session as flask_session
    from flask.sessions import SessionInterface, SessionMixin, session_json_serializer
    from flask.wrappers import Request, Response
except ImportError as exc:  # pragma: no cover - depends on the installed extras
    raise missing_extra("websession.integrations.flask", "flask") from exc

from websession.backends import SessionBackend, open_backend
from websession.backends.cookie import SyncCookieBackend
from websession.config import SessionConfig
from websession.config_compat import flask_settings
from websession.core.csrf import (
    SAFE_METHODS,
    CSRFPolicy,
    Decision,
    Verdict,
    is_form,
    parse_host,
    session_token,
)
from websession.core.session import FLASH_KEY, Session
from websession.integrations.failures import error_response, log_failure
from websession.integrations.headers import has_vary_field
from websession.integrations.paths import matches_any
from websession.stores.base import Store
from websession.types import Clock

__all__ = [
    "FlaskSession",
    "WebsessionInterface",
    "csrf_exempt",
    "csrf_token",
    "get_session",
    "init_app",
    "init_csrf",
]

_FAILED = "_websession_failure"
_UNTAGGED = frozenset({str, int, float, bool, type(None)})
"""Types that Flask's own tags leave as they are."""
_FLASK_TAGS = len(session_json_serializer.order)
_CONTAINERS = (dict, list)  # a tuple: ``dict | list`` would build a union per value
_EXTENSION = "websession"


class FlaskSession(Session, SessionMixin):
    """A websession ``Session`` that Flask accepts as ``flask.session``.

    Values round-trip as in Flask's own session: tuples, bytes, ``Markup``, ``UUID``
    and ``datetime`` are stored in Flask's tagged JSON (``flask.json.tag``; still
    plain JSON, readable by every integration), flash messages in the shared
    ``[category, message]`` format.
    """

    _converts = True
    serializer = session_json_serializer
    """Flask's tagged-JSON serializer (register custom tags on it, as in Flask)."""

    @property
    def new(self) -> bool:  # type: ignore[override]  # Flask declares a plain bool attribute
        """True until the session exists in the store."""
        return self.is_new

    def from_stored(self, data: dict[str, Any]) -> dict[str, Any]:
        """Stored JSON to Python values: tags undone, flashes as ``(category, message)``."""
        untag = self._untag
        values = {n: untag(v) if isinstance(v, _CONTAINERS) else v for n, v in data.items()}
        flashes = values.get(FLASH_KEY)
        if isinstance(flashes, list):
            values[FLASH_KEY] = [
                tuple(pair) if isinstance(pair, list) else pair for pair in flashes
            ]
        return values

    def _default_tags(self) -> bool:
        """True while the serializer has Flask's own tags only (none added since)."""
        serializer = self.serializer
        return serializer is session_json_serializer and len(serializer.order) == _FLASK_TAGS

    def _untag(self, value: Any) -> Any:
        if isinstance(value, dict):
            return self.serializer.untag({n: self._untag(v) for n, v in value.items()})
        if isinstance(value, list):
            return [self._untag(item) for item in value]
        return value

    def to_stored(self, name: str, value: Any) -> Any:
        """A Python value to JSON: Flask's tags; flashes as ``[category, message]``."""
        if type(value) in _UNTAGGED and self._default_tags():
            return value  # none of Flask's own tags applies to a plain str, int, float, bool
        tag = self.serializer.tag
        if name == FLASH_KEY and isinstance(value, list):
            return [
                [pair[0], tag(pair[1])]
                if isinstance(pair, tuple | list) and len(pair) == 2
                else tag(pair)
                for pair in value
            ]
        return tag(value)


class _Failed(FlaskSession):
    """The empty session of a request whose load failed: never saved."""


class WebsessionInterface(SessionInterface):
    """Flask ``SessionInterface`` over a websession backend.

    ``store`` is a store URL (``"cookie://"`` for encrypted cookie sessions), a sync
    ``Store``, or a sync backend such as ``SyncCookieBackend`` (which then carries the
    config). ``config`` defaults to ``SessionConfig.from_env(os.environ)``.
    """

    def __init__(
        self,
        store: str | Store | SessionBackend,
        config: SessionConfig | None = None,
        *,
        exclude_paths: tuple[str, ...] = (),
        clock: Clock = time.time,
    ) -> None:
        self.backend = open_backend(store, config, clock=clock)
        """Where sessions are kept (``websession.backends``)."""
        self.config = self.backend.config
        self.exclude_paths = exclude_paths

    @property
    def cookie_backend(self) -> SyncCookieBackend | None:
        """The backend if it is the encrypted-cookie one (for ``revoke_user``)."""
        return self.backend if isinstance(self.backend, SyncCookieBackend) else None

    def open_session(self, app: Flask, request: Request) -> FlaskSession | None:
        """Open the request's session (no I/O without a valid cookie, one read with one)."""
        if self.exclude_paths and matches_any(request.path, self.exclude_paths):
            return None
        cookie = request.environ.get("HTTP_COOKIE")
        try:
            session = self.backend.open([cookie] if cookie else [], FlaskSession)
        except StoreError as exc:
            log_failure("load", exc)
            setattr(g, _FAILED, exc)  # refuse_if_the_store_failed answers 503
            return _Failed()
        return cast(FlaskSession, session)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        """One store write if the backend needs one; the error's status on a failure.
        A response of 500 or more (a view that raised) saves nothing, unless
        ``SessionConfig.save_on_error``."""
        if not isinstance(session, FlaskSession) or isinstance(session, _Failed):
            return
        accessed = session.accessed  # before the save reads the session itself
        if response.status_code >= 500 and not self.config.save_on_error:
            if accessed:  # a view that raised, or a 5xx: nothing saved (save_on_error)
                response.vary.add("Cookie")
            return
        try:
            cookie = self.backend.save(session)
        except (StoreError, SessionDataError) as exc:
            log_failure("save", exc)
            _replace_with_error(response, exc)
            return
        finally:
            session.accessed = accessed  # the save's own reads are not the app's
        if cookie is not None:
            response.headers.add("Set-Cookie", cookie.render())
            response.headers["Cache-Control"] = "no-store"
        elif session.bound_to_user and "Cache-Control" not in response.headers:
            response.headers["Cache-Control"] = "no-store"  # the app's own header wins
        if cookie is not None or accessed:
            vary = response.headers.getlist("Vary")
            if not vary:  # the common case, without parsing a HeaderSet
                response.headers.add("Vary", "Cookie")
            elif not has_vary_field(vary, "cookie"):
                response.vary.add("Cookie")


def _error(exc: WebsessionError) -> Response:
    error = error_response(exc, request.headers.get("Accept") or "")
    return Response(error.body, status=error.status, headers=list(error.headers))


def _replace_with_error(response: Response, exc: WebsessionError) -> None:
    error = error_response(exc, request.headers.get("Accept") or "")
    response.status_code = error.status
    response.set_data(error.body)
    response.headers.remove("Set-Cookie")
    for name, value in error.headers:
        response.headers[name] = value


def init_app(
    app: Flask,
    store: str | Store | SessionBackend = "sqlite:///sessions.db",
    config: SessionConfig | None = None,
    *,
    exclude_paths: tuple[str, ...] = (),
    clock: Clock = time.time,
) -> WebsessionInterface:
    """Install websession as ``app.session_interface``; return the interface.

    ``store`` is a store URL, a sync ``Store``, ``"cookie://"`` (optionally
    ``"cookie://?revocations=<url-encoded store URL>"``) or a ``SyncCookieBackend``.
    ``config`` defaults to the backend's own; else, when ``WEBSESSION_SECRET`` is set,
    to ``SessionConfig.from_env(os.environ)``; else to the app's Flask settings
    (``SECRET_KEY``, ``SESSION_COOKIE_*``, ``PERMANENT_SESSION_LIFETIME`` …, see
    ``websession.config_compat.flask_settings``), read now: change them before calling
    ``init_app`` (calling it again re-reads them).
    """
    if config is None and not _carries_config(store) and not os.environ.get("WEBSESSION_SECRET"):
        config = flask_settings(app.config)
    interface = WebsessionInterface(store, config, exclude_paths=exclude_paths, clock=clock)
    installed = app.extensions.get(_EXTENSION)
    app.session_interface = interface
    app.extensions[_EXTENSION] = interface
    if installed is not None:  # re-initialised: the hook is there already
        return interface

    def refuse_if_the_store_failed() -> Response | None:
        failure: WebsessionError | None = g.get(_FAILED)
        return None if failure is None else _error(failure)

    app.before_request_funcs.setdefault(None, []).insert(0, refuse_if_the_store_failed)
    return interface


def _carries_config(store: object) -> bool:
    return isinstance(getattr(store, "config", None), SessionConfig)


def get_session() -> FlaskSession:
    """Return ``flask.session`` as a websession ``FlaskSession``."""
    session: Any = flask_session._get_current_object()  # type: ignore[attr-defined]  # LocalProxy
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
            current: Any = flask_session._get_current_object()  # type: ignore[attr-defined]  # LocalProxy
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
