"""The rules for choosing a backend, shared by the async and sync resolvers.

A backend is what an integration drives (``AsyncSessionBackend`` / ``SessionBackend``
in ``websession.backends``): ``open`` a request's session from its Cookie headers,
``save`` it when the response starts, ``close`` at shutdown.
"""

from __future__ import annotations

import inspect
import os
from typing import Any

from websession.config import SessionConfig
from websession.errors import ConfigError

__all__ = ["is_cookie_url", "require_async", "require_sync", "resolve_config"]


def is_cookie_url(url: str) -> bool:
    """True for ``cookie://`` URLs (the encrypted-cookie backend, not a store)."""
    return url[:7].lower() == "cookie:"


def resolve_config(store: object, config: SessionConfig | None) -> SessionConfig:
    """The configuration an integration runs with: a backend's own (``config`` may only
    repeat it), else ``config``, else ``SessionConfig.from_env(os.environ)``."""
    own: Any = getattr(store, "config", None) if _is_backend(store) else None
    if isinstance(own, SessionConfig):
        if config is not None and config != own:
            raise ConfigError(f"pass config to the {type(store).__name__} only, not to both")
        return own
    return config if config is not None else SessionConfig.from_env(os.environ)


def require_async(backend: object) -> None:
    """Raise ConfigError unless ``backend`` is an async backend (ASGI side)."""
    if not inspect.iscoroutinefunction(getattr(backend, "save", None)):
        raise ConfigError(
            f"{type(backend).__name__} is a sync backend: give SessionMiddleware the async "
            "one (CookieBackend for cookie sessions) or a store URL"
        )


def require_sync(backend: object) -> None:
    """Raise ConfigError unless ``backend`` is a sync backend (WSGI side)."""
    if inspect.iscoroutinefunction(getattr(backend, "save", None)):
        raise ConfigError(
            f"{type(backend).__name__} is the async driver: give Flask a SyncCookieBackend "
            "(same arguments) or store='cookie://'"
        )


def _is_backend(store: object) -> bool:
    return all(hasattr(store, name) for name in ("open", "save", "close", "config"))
