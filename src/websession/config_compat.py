"""Starlette's and Flask's session settings, mapped onto ``SessionConfig``.

A switching app keeps its settings and their meaning; websession's own validation
still applies (a secret shorter than 32 bytes is refused with a ``ConfigError`` that
says what to do). Where the meaning cannot be kept, the mapping documents it:

- there is always an absolute timeout (``absolute_for``): twice the configured
  lifetime, and at least ``SessionConfig``'s default of 14 days, so an active session
  is refreshed as in Flask and Starlette, but not forever;
- SameSite is always sent: Flask's ``SESSION_COOKIE_SAMESITE = None`` becomes ``lax``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from websession.config import MIN_SECRET_BYTES, SessionConfig
from websession.errors import ConfigError

__all__ = ["STARLETTE_MAX_AGE", "absolute_for", "flask_settings", "starlette_settings"]

STARLETTE_MAX_AGE = 14 * 24 * 60 * 60
"""Starlette's default ``max_age`` (14 days, in seconds)."""
_DEFAULT_ABSOLUTE = timedelta(days=14)
_EXPIRED = timedelta(microseconds=1)  # Starlette's max_age <= 0: nothing outlives the request
_SAMESITE = {"lax": "lax", "strict": "strict", "none": "none"}


def starlette_settings(
    secret_key: Any,
    *,
    session_cookie: str = "session",
    max_age: int | None = STARLETTE_MAX_AGE,
    path: str = "/",
    same_site: str = "lax",
    https_only: bool = False,
    domain: str | None = None,
    partitioned: bool = False,
) -> SessionConfig:
    """The config meaning what Starlette's ``SessionMiddleware`` arguments mean.

    ``max_age`` (seconds) is the idle timeout and the cookie's Max-Age; ``None`` gives a
    browser-session cookie (the server still ends it after 14 idle days); zero or less
    ends every session with its request. ``https_only`` is ``secure``; the cookie is
    always HttpOnly, as Starlette's is. ``secret_key`` may be Starlette's ``Secret``.
    """
    secret = _secret(secret_key, "secret_key")
    options: dict[str, Any] = {}
    if max_age is None:
        options.update(permanent=False, idle_timeout=_DEFAULT_ABSOLUTE)
    elif max_age <= 0:
        options.update(idle_timeout=_EXPIRED)
    else:
        options.update(idle_timeout=timedelta(seconds=max_age))
    idle: timedelta = options["idle_timeout"]
    return SessionConfig(
        secret=secret,
        cookie_name=session_cookie,
        cookie_path=path,
        cookie_domain=domain,
        secure=https_only,
        http_only=True,
        same_site=same_site,  # type: ignore[arg-type]  # validated by SessionConfig
        partitioned=partitioned,
        absolute_timeout=absolute_for(idle),
        **options,
    )


def flask_settings(settings: Mapping[str, Any]) -> SessionConfig:
    """The config meaning what a Flask app's session settings mean (``app.config``).

    Read: ``SECRET_KEY``, ``SECRET_KEY_FALLBACKS``, ``SESSION_COOKIE_NAME``,
    ``SESSION_COOKIE_DOMAIN``, ``SESSION_COOKIE_PATH`` (else ``APPLICATION_ROOT``),
    ``SESSION_COOKIE_SECURE``, ``SESSION_COOKIE_HTTPONLY``, ``SESSION_COOKIE_SAMESITE``,
    ``SESSION_COOKIE_PARTITIONED``, ``PERMANENT_SESSION_LIFETIME`` (the idle timeout)
    and ``SESSION_REFRESH_EACH_REQUEST``. Sessions are not permanent unless
    ``session.permanent = True``, as in Flask, or unless Flask-Session's
    ``SESSION_PERMANENT`` says so.
    """
    secret = settings.get("SECRET_KEY")
    if not secret:
        raise ConfigError(
            "Flask's SECRET_KEY is not set: set app.config['SECRET_KEY'] to at least "
            f"{MIN_SECRET_BYTES} random bytes (`python -c 'import secrets; "
            "print(secrets.token_urlsafe(48))'`), or pass config=SessionConfig(...)"
        )
    fallbacks = settings.get("SECRET_KEY_FALLBACKS") or ()
    if isinstance(fallbacks, str | bytes):
        fallbacks = [fallbacks]
    lifetime = _seconds(settings.get("PERMANENT_SESSION_LIFETIME", timedelta(days=31)))
    path = settings.get("SESSION_COOKIE_PATH") or settings.get("APPLICATION_ROOT") or "/"
    return SessionConfig(
        secret=_secret(secret, "SECRET_KEY"),
        previous_secrets=[
            _secret(key, f"SECRET_KEY_FALLBACKS[{index}]")
            for index, key in enumerate(_listed(fallbacks))
        ],
        cookie_name=settings.get("SESSION_COOKIE_NAME") or "session",
        cookie_domain=settings.get("SESSION_COOKIE_DOMAIN") or None,
        cookie_path=path,
        secure=bool(settings.get("SESSION_COOKIE_SECURE", False)),
        http_only=bool(settings.get("SESSION_COOKIE_HTTPONLY", True)),
        same_site=_same_site(settings.get("SESSION_COOKIE_SAMESITE")),
        partitioned=bool(settings.get("SESSION_COOKIE_PARTITIONED", False)),
        idle_timeout=lifetime,
        absolute_timeout=absolute_for(lifetime),
        permanent=bool(settings.get("SESSION_PERMANENT", False)),
        refresh_each_request=bool(settings.get("SESSION_REFRESH_EACH_REQUEST", True)),
    )


def absolute_for(lifetime: timedelta) -> timedelta:
    """The absolute timeout that goes with a framework's session ``lifetime`` (which
    has none): twice the lifetime, at least 14 days."""
    return max(2 * lifetime, _DEFAULT_ABSOLUTE)


def _secret(value: Any, name: str) -> str | bytes:
    raw = value if isinstance(value, str | bytes) else str(value)  # Starlette's Secret
    size = len(raw.encode() if isinstance(raw, str) else raw)
    if size < MIN_SECRET_BYTES:
        raise ConfigError(
            f"{name} is {size} bytes, but websession needs a session secret of at least "
            f"{MIN_SECRET_BYTES} bytes: generate one with `python -c 'import secrets; "
            "print(secrets.token_urlsafe(48))'`, or keep this key for the rest of the "
            "app and pass config=SessionConfig(secret=...) for sessions"
        )
    return raw


def _listed(value: Any) -> Sequence[Any]:
    if isinstance(value, Sequence):
        return value
    raise ConfigError(f"SECRET_KEY_FALLBACKS must be a list of keys, not {type(value).__name__}")


def _seconds(value: Any) -> timedelta:
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return timedelta(seconds=value)
    raise ConfigError(f"PERMANENT_SESSION_LIFETIME must be a timedelta or seconds, not {value!r}")


def _same_site(value: Any) -> Any:
    if value is None:
        return "lax"  # websession always sends SameSite; Lax is what browsers assume
    same_site = _SAMESITE.get(str(value).lower())
    if same_site is None:
        raise ConfigError(
            f"SESSION_COOKIE_SAMESITE must be 'Lax', 'Strict', 'None' or None, not {value!r}"
        )
    return same_site
