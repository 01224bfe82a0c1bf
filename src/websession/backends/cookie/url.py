"""``cookie://`` URLs: the encrypted-cookie backend, chosen like a store."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

from websession.backends.cookie._async.backend import CookieBackend
from websession.backends.cookie._sync.backend import SyncCookieBackend
from websession.config import SessionConfig
from websession.errors import ConfigError
from websession.types import Clock

__all__ = ["open_cookie_backend", "open_sync_cookie_backend", "revocations_of"]


def revocations_of(url: str) -> str | None:
    """The revocation store URL of ``cookie://?revocations=<store URL>`` (the store URL
    percent-encoded), None for plain ``cookie://``; ConfigError for anything else."""
    parts = urlsplit(url)
    if parts.scheme.lower() != "cookie" or parts.netloc or parts.path not in ("", "/"):
        raise ConfigError(
            f"a cookie backend URL is 'cookie://' or 'cookie://?revocations=<store URL>', "
            f"not {url!r}"
        )
    query = parse_qs(parts.query, keep_blank_values=True)
    unknown = set(query) - {"revocations"}
    if unknown:
        raise ConfigError(f"cookie:// takes only 'revocations', not {sorted(unknown)}")
    return query.get("revocations", [None])[-1] or None


def open_cookie_backend(
    url: str, config: SessionConfig, *, clock: Clock = time.time
) -> CookieBackend:
    """Return the async backend for ``cookie://`` or ``cookie://?revocations=<URL>``."""
    return CookieBackend(config, revocations=revocations_of(url), clock=clock)


def open_sync_cookie_backend(
    url: str, config: SessionConfig, *, clock: Clock = time.time
) -> SyncCookieBackend:
    """The sync twin of ``open_cookie_backend`` (same URLs)."""
    return SyncCookieBackend(config, revocations=revocations_of(url), clock=clock)
