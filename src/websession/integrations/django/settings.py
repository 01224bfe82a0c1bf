"""Django settings to a websession configuration, and the one store per URL.

=========================  ==========================================================
Django setting             websession
=========================  ==========================================================
``WEBSESSION_STORE``       the store URL (default ``sqlite:///websession.sqlite3``)
``WEBSESSION_SECRET``      the signing secret (>= 32 bytes); else ``SECRET_KEY`` when it
                           is long enough; else ``ImproperlyConfigured``
``WEBSESSION``             the rest of ``SessionConfig`` (``idle_timeout``,
                           ``absolute_timeout``, ``refresh_threshold``, ``max_size``,
                           ``previous_secrets``); wins over the rows below
``SESSION_COOKIE_AGE``     ``idle_timeout`` (``absolute_timeout``: 30 days or the age)
``SESSION_COOKIE_*``       cookie name, path, domain, Secure, HttpOnly (Django's own
                           middleware sets the cookie with them)
``SESSION_EXPIRE_AT_``     ``permanent=False``
``BROWSER_CLOSE``
=========================  ==========================================================

The configuration is read once and read again when a test changes one of these
settings (``override_settings``). Every ``SessionStore`` of a process shares one store
per URL (``memory://`` included): its sync form, and its async form per event loop for
server stores (a Redis or PostgreSQL async client belongs to the loop that made it).
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed

from websession.backends.base import is_cookie_url
from websession.config import MIN_SECRET_BYTES, SessionConfig
from websession.errors import ConfigError
from websession.integrations.django.policy import Policy
from websession.stores import open_async_store, open_store
from websession.stores.async_face import Run, async_face
from websession.stores.base import AsyncStore, Store

__all__ = ["DEFAULT_STORE", "Settings", "SharedStore", "close_stores", "current", "shared_store"]

DEFAULT_STORE = "sqlite:///websession.sqlite3"
"""The store when ``WEBSESSION_STORE`` is not set: the embedded SQLite store."""

_DEFAULT_ABSOLUTE = timedelta(days=30)
_WATCHED = ("SECRET_KEY", "SESSION_", "WEBSESSION")
_EMBEDDED = {"memory": Run.INLINE, "sqlite": Run.THREAD, "file": Run.THREAD}


@dataclass(frozen=True, slots=True)
class Settings:
    """What the Django session engine runs with."""

    store_url: str
    config: SessionConfig
    policy: Policy
    """The sans-IO rules for ``config``."""


def _secret() -> str | bytes:
    secret: Any = getattr(settings, "WEBSESSION_SECRET", None)
    name = "WEBSESSION_SECRET"
    if secret is None:
        secret, name = settings.SECRET_KEY, "SECRET_KEY"
    raw = secret.encode() if isinstance(secret, str) else secret
    if not isinstance(raw, bytes) or len(raw) < MIN_SECRET_BYTES:
        raise ImproperlyConfigured(
            f"websession signs session cookies with {name}, which must be at least "
            f"{MIN_SECRET_BYTES} bytes: set WEBSESSION_SECRET to a long random value, e.g. "
            "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`"
        )
    return secret  # type: ignore[no-any-return]  # a str or bytes, checked above


def _same_site() -> str:
    value = settings.SESSION_COOKIE_SAMESITE
    lowered = value.lower() if isinstance(value, str) else ""
    return lowered if lowered in ("lax", "strict", "none") else "lax"


def read() -> Settings:
    """Read the engine's settings from ``django.conf.settings``; ImproperlyConfigured
    with what to change if they are not valid."""
    age = timedelta(seconds=int(settings.SESSION_COOKIE_AGE))
    options: dict[str, Any] = {
        "cookie_name": settings.SESSION_COOKIE_NAME,
        "cookie_path": settings.SESSION_COOKIE_PATH,
        "cookie_domain": settings.SESSION_COOKIE_DOMAIN,
        "secure": bool(settings.SESSION_COOKIE_SECURE),
        "http_only": bool(settings.SESSION_COOKIE_HTTPONLY),
        "same_site": _same_site(),
        "permanent": not settings.SESSION_EXPIRE_AT_BROWSER_CLOSE,
        "idle_timeout": age,
        "absolute_timeout": max(age, _DEFAULT_ABSOLUTE),
    }
    if options["same_site"] == "none" and not options["secure"]:
        options["same_site"] = "lax"  # Django sets the cookie; this only keeps the config valid
    options.update(getattr(settings, "WEBSESSION", {}))
    url = getattr(settings, "WEBSESSION_STORE", DEFAULT_STORE)
    if not isinstance(url, str) or "://" not in url or is_cookie_url(url):
        raise ImproperlyConfigured(
            f"WEBSESSION_STORE must be a store URL such as 'sqlite:///sessions.db' or "
            f"'redis://localhost:6379/0', not {url!r} (cookie:// is not a store)"
        )
    try:
        config = SessionConfig(secret=_secret(), **options)
    except (ConfigError, TypeError) as exc:
        raise ImproperlyConfigured(f"websession session engine: {exc}") from exc
    return Settings(url, config, Policy(config))


_CURRENT: dict[str, Settings] = {}


def current() -> Settings:
    """The engine's settings, read once (and again after a watched setting changes)."""
    found = _CURRENT.get("settings")
    if found is None:
        found = _CURRENT["settings"] = read()
    return found


def _forget(*, setting: str, **kwargs: Any) -> None:
    if setting.startswith(_WATCHED):
        _CURRENT.clear()


setting_changed.connect(_forget, dispatch_uid="websession.django.settings")


class SharedStore:
    """The one store of a URL in this process, sync and async."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._lock = threading.Lock()
        self._sync: Store | None = None
        self._face: AsyncStore | None = None
        self._loops: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, AsyncStore] = (
            weakref.WeakKeyDictionary()
        )
        self._run = _EMBEDDED.get(url.split("://", 1)[0].lower())

    def sync(self) -> Store:
        """The sync store (opened on first use)."""
        store = self._sync
        if store is None:
            with self._lock:
                store = self._sync
                if store is None:
                    store = self._sync = open_store(self.url)
        return store

    def async_(self) -> AsyncStore:
        """The async store for the running loop: an embedded store's async face over
        the same sync store, a server store's own async client for this loop."""
        if self._run is not None:
            face = self._face
            if face is None:
                face = self._face = async_face(self.sync(), self._run)
            return face
        loop = asyncio.get_running_loop()
        store = self._loops.get(loop)
        if store is None:
            store = self._loops[loop] = open_async_store(self.url)
        return store

    async def aclose_loop(self) -> None:
        """Close the async store of the running loop, if this loop opened one."""
        store = self._loops.pop(asyncio.get_running_loop(), None)
        if store is not None:
            await store.close()

    def close(self) -> None:
        """Close the sync store (async stores close with ``aclose_loop``)."""
        with self._lock:
            store, self._sync, self._face = self._sync, None, None
        if store is not None:
            store.close()


_SHARED: dict[str, SharedStore] = {}
_SHARED_LOCK = threading.Lock()


def shared_store(url: str) -> SharedStore:
    """The process's one ``SharedStore`` for ``url``."""
    found = _SHARED.get(url)
    if found is None:
        with _SHARED_LOCK:
            found = _SHARED.setdefault(url, SharedStore(url))
    return found


def close_stores() -> None:
    """Close and forget every shared store (tests, shutdown)."""
    with _SHARED_LOCK:
        stores = list(_SHARED.values())
        _SHARED.clear()
    for store in stores:
        store.close()
