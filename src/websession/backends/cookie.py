"""Encrypted cookie sessions: the whole session in the cookie, sealed with AES-256-GCM.

Not a store, a second backend: ``SessionMiddleware(app, store="cookie://", config=...)``
or ``store=CookieBackend(config, revocations="sqlite:///revocations.db")``; for Flask,
``init_app(app, store="cookie://", config=...)`` or ``store=SyncCookieBackend(...)``.
The application sees the same ``request.session`` / ``flask.session`` and
``get_session()``, and both sides read each other's cookies.

``CookieEngine`` is the sans-IO policy; ``CookieBackend`` (async) and
``SyncCookieBackend`` (sync) only add the revocation store's calls.

The cookie value is URL-safe base64 of::

    version (1 byte) | key id (4 bytes) | nonce (12 bytes) | AES-GCM ciphertext and tag

The key id and version, and the cookie name, are authenticated data. Each secret of the
configuration (current and previous) gives an AES key and its key id, both derived by
HMAC for this one purpose, so a cookie names the one key that opens it: no loop over
keys. A cookie sealed with an older key is resealed with the current one. The sealed
JSON carries the data, the user, a random session id and every deadline, so expiry
is authenticated too; nothing is compressed (no CRIME-style length leaks).

Stateless cookies cannot be deleted server-side, so revocation is a tiny record per
user in a configured store (``revocations``): "sessions issued before T" and the ids of
single sessions logged out. Only cookies bound to a user (``session.user_id``) cost that
one read per request; anonymous cookie sessions do no I/O at all.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import math
import os
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import orjson

from websession.config import Secret, SessionConfig
from websession.core.cookies import SetCookie, cookie_values
from websession.core.engine import session_cookie, too_large
from websession.core.jsondata import check_value, dumps
from websession.core.session import Session
from websession.core.signing import derive_key
from websession.errors import ConfigError, SessionDataError, StoreError
from websession.stores import open_async_store, open_store
from websession.stores.base import AsyncStore, Store
from websession.types import Changes, Clock, Record, SessionKey

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

__all__ = [
    "MAX_COOKIE_BYTES",
    "CookieBackend",
    "CookieCodec",
    "CookieEngine",
    "CookieState",
    "Payload",
    "SyncCookieBackend",
    "open_cookie_backend",
    "open_sync_cookie_backend",
    "resolve_config",
]

MAX_COOKIE_BYTES = 4096
"""Largest name plus value a browser keeps (RFC 6265bis); a larger cookie is an error."""

_VERSION = b"\x01"
_KID_BYTES = 4
_NONCE_BYTES = 12
_TAG_BYTES = 16
_HEADER = 1 + _KID_BYTES + _NONCE_BYTES
_MIN_RAW = _HEADER + _TAG_BYTES + 2
_MAX_VALUE = (MAX_COOKIE_BYTES * 4) // 3 + 4
_SID_LENGTH = 22
_SID_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
_MAX_REVOKED_IDS = 64
_RECORD_HORIZON = 10 * 365 * 86400.0


@dataclass(frozen=True, slots=True)
class Payload:
    """What a cookie carries: the record, its session id, when that id was issued,
    and whether an older key sealed it (then it is resealed)."""

    record: Record
    sid: str
    issued_at: float
    stale: bool = False


class CookieCodec:
    """Seals payloads with the current key and opens them with the one key they name."""

    __slots__ = ("_aad", "_current", "_invalid_tag", "_keys")

    def __init__(self, secrets_: Iterable[Secret], cookie_name: str) -> None:
        try:  # the optional 'cookie' extra, imported only when cookie sessions are used
            from cryptography.exceptions import InvalidTag
            from cryptography.hazmat.primitives.ciphers.aead import AESGCM
        except ImportError as exc:  # pragma: no cover - only without the extra
            raise ConfigError(
                "cookie:// needs the 'cookie' extra: pip install 'websession[cookie]'"
            ) from exc
        self._invalid_tag = InvalidTag
        keys: dict[bytes, AESGCM] = {}
        current: bytes | None = None
        for secret in secrets_:
            key = derive_key(secret, b"cookie-aes-256-gcm")
            kid = hmac.new(key, b"key-id", hashlib.sha256).digest()[:_KID_BYTES]
            if kid in keys:
                raise ConfigError(
                    "two session secrets give the same cookie key id: "
                    "remove the duplicate from previous_secrets"
                )
            keys[kid] = AESGCM(key)
            current = kid if current is None else current
        if current is None:
            raise ConfigError("the cookie backend needs at least one secret")
        self._keys = keys
        self._current = current
        self._aad = cookie_name.encode()

    def seal(self, payload: Payload) -> str:
        """Return the cookie value of ``payload`` under the current key."""
        record = payload.record
        plain = orjson.dumps(
            {
                "d": record.data,
                "c": record.created_at,
                "s": record.last_seen,
                "e": record.expires_at,
                "a": record.absolute_expires_at,
                "u": record.user_id,
                "i": payload.sid,
                "t": payload.issued_at,
            }
        )
        nonce = secrets.token_bytes(_NONCE_BYTES)
        header = _VERSION + self._current + nonce
        sealed = self._keys[self._current].encrypt(nonce, plain, header[:5] + self._aad)
        return base64.urlsafe_b64encode(header + sealed).rstrip(b"=").decode()

    def open(self, value: str) -> Payload | None:
        """Return the payload of a cookie value, or None for anything not sealed by one
        of our keys for this cookie name (the deadlines are not checked here)."""
        if not isinstance(value, str) or not 0 < len(value) <= _MAX_VALUE:
            return None
        try:
            raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        except (binascii.Error, ValueError):
            return None
        if len(raw) < _MIN_RAW or raw[:1] != _VERSION:
            return None
        kid = raw[1 : 1 + _KID_BYTES]
        key = self._keys.get(kid)
        if key is None:
            return None
        try:
            plain = key.decrypt(raw[5:_HEADER], raw[_HEADER:], raw[:5] + self._aad)
        except self._invalid_tag:
            return None
        return _payload(plain, stale=kid != self._current)


def _payload(plain: bytes, *, stale: bool) -> Payload | None:
    try:
        doc = orjson.loads(plain)
    except orjson.JSONDecodeError:
        return None
    if type(doc) is not dict:
        return None
    data, user, sid = doc.get("d"), doc.get("u"), doc.get("i")
    times = [doc.get(name) for name in ("c", "s", "e", "a", "t")]
    if (
        type(data) is not dict
        or not (user is None or (type(user) is str and user))
        or type(sid) is not str
        or len(sid) != _SID_LENGTH
        or not _SID_CHARS.issuperset(sid)
        or not all(_finite(t) for t in times)
    ):
        return None
    created, seen, expires, absolute, issued = (float(t) for t in times)  # type: ignore[arg-type]
    return Payload(Record(data, created, seen, expires, absolute, user), sid, issued, stale)


def revocation_key(user_id: str) -> SessionKey:
    """The store key of a user's revocation record (never a session token's hash)."""
    digest = hashlib.sha256(b"websession/cookie-revocation\x00" + user_id.encode()).hexdigest()
    return SessionKey(digest)


@dataclass(slots=True)
class CookieState:
    """One request's cookie session: the session handed to the app and what it came from."""

    session: Session
    payload: Payload | None


class CookieEngine:
    """The sans-IO policy of cookie sessions, shared by ``CookieBackend`` (async) and
    ``SyncCookieBackend`` (sync): opening and checking cookies, deciding on revocation,
    sealing the cookie to send. It does no I/O; the drivers call the revocation store."""

    def __init__(self, config: SessionConfig, *, clock: Clock = time.time) -> None:
        self.config = config
        self.codec = CookieCodec(config.verifying_secrets, config.cookie_name)
        self._clock = clock
        self._idle = config.idle_timeout.total_seconds()
        self._absolute = config.absolute_timeout.total_seconds()
        self._refresh_after = self._idle * config.refresh_threshold

    def read(self, cookie_headers: Iterable[str]) -> Payload | None:
        """Return the first cookie that opens and is within its deadlines, else None."""
        now = self._clock()
        for value in cookie_values(cookie_headers, self.config.cookie_name):
            payload = self.codec.open(value)
            if payload is None:
                continue
            record = payload.record
            if now < record.expires_at and now < record.absolute_expires_at:
                return payload
        return None

    @staticmethod
    def revocation_to_check(payload: Payload | None) -> SessionKey | None:
        """The revocation record to read for this cookie: only a user-bound one has one
        (anonymous cookie sessions cost no I/O)."""
        if payload is None or payload.record.user_id is None:
            return None
        return revocation_key(payload.record.user_id)

    def is_revoked(self, payload: Payload, revocation: Record | None) -> bool:
        """True if ``revocation`` (the user's record) rules this cookie out."""
        if revocation is None or revocation.expires_at <= self._clock():
            return False
        before: Any = revocation.data.get("b")
        if _finite(before) and payload.issued_at <= before:
            return True
        return "s:" + payload.sid in revocation.data

    def open(
        self,
        payload: Payload | None,
        revocation: Record | None,
        session_class: type[Session] = Session,
    ) -> CookieState:
        """The request's state: the cookie's session unless ``revocation`` rules it out,
        else a fresh anonymous one. ``session_class`` is a ``Session`` subclass an
        integration needs (Flask's)."""
        if payload is None or self.is_revoked(payload, revocation):
            return CookieState(session_class(), None)
        return CookieState(session_class(payload.record, stale_signature=payload.stale), payload)

    def finish(self, state: CookieState) -> tuple[SetCookie | None, Payload | None]:
        """Return the cookie to send and, if an id must be revoked, the payload it
        belonged to. Raises SessionDataError (nothing sent) when the data is not JSON,
        over ``max_size``, or the cookie would pass 4096 bytes."""
        session, old = state.session, state.payload
        revoke = old if old is not None and old.record.user_id is not None else None
        if session.destroyed:
            if session.data_view() or session.user_id is not None:
                return self._seal(session, None), revoke
            return self.delete_cookie(), revoke
        if old is None:
            if not session.data_view() and session.user_id is None:
                return None, None
            return self._seal(session, None), None
        if session.regenerating:
            return self._seal(session, None, base=old), revoke
        now = self._clock()
        changed, removed, user_changed = session.pending_changes()
        record = old.record
        if (
            changed
            or removed
            or user_changed
            or old.stale
            or now - (record.expires_at - self._idle) >= self._refresh_after
        ):
            return self._seal(session, old, base=old), None
        return None, None

    def _seal(
        self, session: Session, same: Payload | None, *, base: Payload | None = None
    ) -> SetCookie:
        data = session.data_view()
        try:
            size = len(dumps(data))
        except TypeError:
            for name, value in data.items():
                check_value(name, value)
            raise SessionDataError("session data is not JSON") from None
        if size > self.config.max_size:
            raise too_large(f"session data is {size} bytes, over max_size={self.config.max_size}")
        now = self._clock()
        if base is None:
            created, absolute = now, now + self._absolute
        else:
            created, absolute = base.record.created_at, base.record.absolute_expires_at
        expires = min(now + self._idle, absolute)
        record = Record(dict(data), created, now, expires, absolute, session.user_id)
        if same is not None:
            payload = Payload(record, same.sid, same.issued_at)
        else:
            payload = Payload(record, secrets.token_urlsafe(16), now)
        value = self.codec.seal(payload)
        name = self.config.cookie_name
        if len(name) + len(value) > MAX_COOKIE_BYTES:
            raise too_large(
                f"the session cookie would be {len(name) + len(value)} bytes, over the "
                f"{MAX_COOKIE_BYTES} a browser keeps: store less in the session "
                "(about 2.9 KiB of JSON fits) or use a server-side store"
            )
        max_age = max(1, math.ceil(expires - now)) if self.config.permanent else None
        return session_cookie(self.config, value, max_age)

    def delete_cookie(self) -> SetCookie:
        """A Set-Cookie that makes the browser drop the session cookie."""
        return session_cookie(self.config, "", 0)

    def revocation(
        self, current: Record | None, sid: str | None, now: float
    ) -> tuple[Changes, Record]:
        """The write that revokes one session id (``sid``), or every session of the user
        issued until ``now`` (``sid`` None), given the user's ``current`` record: the
        patch for an existing record and the record to create if there is none."""
        old_ids = [n for n in (current.data if current is not None else {}) if n[:2] == "s:"]
        expired = {
            n for n in old_ids if current is not None and not _number_above(current.data[n], now)
        }
        if sid is None or len(old_ids) - len(expired) >= _MAX_REVOKED_IDS:
            changed: dict[str, Any] = {"b": now}  # everything issued until now, ids too
            removed = frozenset(old_ids)
        else:
            changed = {"s:" + sid: now + self._absolute}
            removed = frozenset(expired)
        expires = now + self._absolute  # no cookie outlives its absolute timeout
        changes = Changes(last_seen=now, expires_at=expires, set=changed, remove=removed)
        return changes, Record(dict(changed), now, now, expires, now + _RECORD_HORIZON)

    def _no_revocation_store(self) -> ConfigError:
        return ConfigError(
            f"revoke_user needs a revocation store: {type(self).__name__}(config, "
            "revocations='sqlite:///revocations.db')"
        )


class CookieBackend(CookieEngine):
    """Client-side sessions in an encrypted cookie, with per-user revocation (async
    driver, used by ``SessionMiddleware``; ``SyncCookieBackend`` is the sync twin).

    ``revocations`` is a store URL or ``AsyncStore`` for the revocation records; without
    it, user-bound cookie sessions cannot be revoked server-side before they expire
    (``revoke_user`` then raises ConfigError).
    """

    def __init__(
        self,
        config: SessionConfig,
        *,
        revocations: str | AsyncStore | None = None,
        clock: Clock = time.time,
    ) -> None:
        super().__init__(config, clock=clock)
        self.revocations = (
            open_async_store(revocations) if isinstance(revocations, str) else revocations
        )

    async def load(self, cookie_headers: Iterable[str]) -> CookieState:
        """Open this request's cookie session (one read if it is bound to a user)."""
        payload = self.read(cookie_headers)
        key = self.revocation_to_check(payload)
        revocation = None
        if key is not None and self.revocations is not None:
            revocation = await self.revocations.load(key)
        return self.open(payload, revocation)

    async def save(self, state: CookieState) -> SetCookie | None:
        """Record a revocation if the request logged out or regenerated a user's
        session, then return the cookie to send."""
        cookie, revoke = self.finish(state)
        if revoke is not None and self.revocations is not None:
            await self._revoke(self.revocations, _user_of(revoke), revoke.sid)
        return cookie

    async def revoke_user(self, user_id: str) -> None:
        """Log ``user_id`` out everywhere: every cookie session issued until now dies."""
        if self.revocations is None:
            raise self._no_revocation_store()
        await self._revoke(self.revocations, user_id, None)

    async def _revoke(self, store: AsyncStore, user_id: str, sid: str | None) -> None:
        key = revocation_key(user_id)
        now = self._clock()
        current = await store.load(key)
        for _ in range(3):
            changes, record = self.revocation(current, sid, now)
            if current is not None and await store.update(key, changes):
                return
            if await store.create(key, record):
                return
            current = await store.load(key)
        raise StoreError("could not record a revocation: the record kept changing")

    async def close(self) -> None:
        """Close the revocation store, if any."""
        if self.revocations is not None:
            await self.revocations.close()


class SyncCookieBackend(CookieEngine):
    """The sync twin of ``CookieBackend`` (used by the Flask integration, and from
    scripts): the same cookies, the same revocation records, no event loop.

    ``revocations`` is a store URL or sync ``Store``.
    """

    def __init__(
        self,
        config: SessionConfig,
        *,
        revocations: str | Store | None = None,
        clock: Clock = time.time,
    ) -> None:
        super().__init__(config, clock=clock)
        self.revocations = open_store(revocations) if isinstance(revocations, str) else revocations

    def load(
        self, cookie_headers: Iterable[str], session_class: type[Session] = Session
    ) -> CookieState:
        """Open this request's cookie session (one read if it is bound to a user)."""
        payload = self.read(cookie_headers)
        key = self.revocation_to_check(payload)
        revocation = None
        if key is not None and self.revocations is not None:
            revocation = self.revocations.load(key)
        return self.open(payload, revocation, session_class)

    def save(self, state: CookieState) -> SetCookie | None:
        """Record a revocation if the request logged out or regenerated a user's
        session, then return the cookie to send."""
        cookie, revoke = self.finish(state)
        if revoke is not None and self.revocations is not None:
            self._revoke(self.revocations, _user_of(revoke), revoke.sid)
        return cookie

    def revoke_user(self, user_id: str) -> None:
        """Log ``user_id`` out everywhere: every cookie session issued until now dies."""
        if self.revocations is None:
            raise self._no_revocation_store()
        self._revoke(self.revocations, user_id, None)

    def _revoke(self, store: Store, user_id: str, sid: str | None) -> None:
        key = revocation_key(user_id)
        now = self._clock()
        current = store.load(key)
        for _ in range(3):
            changes, record = self.revocation(current, sid, now)
            if current is not None and store.update(key, changes):
                return
            if store.create(key, record):
                return
            current = store.load(key)
        raise StoreError("could not record a revocation: the record kept changing")

    def close(self) -> None:
        """Close the revocation store, if any."""
        if self.revocations is not None:
            self.revocations.close()


def _user_of(payload: Payload) -> str:
    user_id = payload.record.user_id
    assert user_id is not None  # noqa: S101 - finish names only user-bound payloads
    return user_id


def _finite(value: Any) -> bool:
    return type(value) in (int, float) and math.isfinite(value)


def _number_above(value: object, now: float) -> bool:
    return type(value) in (int, float) and value > now  # type: ignore[operator]


def _revocations_of(url: str) -> str | None:
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


def resolve_config(store: object, config: SessionConfig | None) -> SessionConfig:
    """The configuration an integration runs with: a cookie backend's own (``config``
    may only repeat it), else ``config``, else ``SessionConfig.from_env(os.environ)``."""
    if isinstance(store, CookieEngine):
        if config is not None and config != store.config:
            raise ConfigError(f"pass config to the {type(store).__name__} only, not to both")
        return store.config
    return config if config is not None else SessionConfig.from_env(os.environ)


def open_cookie_backend(
    url: str, config: SessionConfig, *, clock: Clock = time.time
) -> CookieBackend:
    """Return the backend for ``cookie://`` or ``cookie://?revocations=<store URL>``
    (the store URL percent-encoded)."""
    return CookieBackend(config, revocations=_revocations_of(url), clock=clock)


def open_sync_cookie_backend(
    url: str, config: SessionConfig, *, clock: Clock = time.time
) -> SyncCookieBackend:
    """The sync twin of ``open_cookie_backend`` (same URLs)."""
    return SyncCookieBackend(config, revocations=_revocations_of(url), clock=clock)
