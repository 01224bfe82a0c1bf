"""The encrypted cookie's format: AES-256-GCM sealing of a session's record.

The cookie value is URL-safe base64 of::

    0x02 (1 byte) | key id (4 bytes) | salt (24 bytes) | AES-GCM ciphertext and tag

Each cookie is sealed under its own key, ``HMAC-SHA256(master, salt)`` for a fresh
random 192-bit salt, with an all-zero nonce (each key seals one message). This removes
AES-GCM's message limit under one key: with random 96-bit nonces, ``q`` messages
repeat a nonce with probability about ``q**2 / 2**97`` (NIST's 2**-32 is reached at
2**32 messages); with per-message keys, two messages share a key with probability about
``q**2 / 2**193``, which stays under 2**-32 until 2**80 messages. It costs 12 bytes
(16 characters) per cookie and one HMAC per seal or open.

Version 0x01 cookies (``0x01 | key id | random 96-bit nonce | ciphertext and tag``,
sealed directly under the master key) still open until they expire, and are resealed
in the current format on their next response (they open as ``stale``).

The version, key id and cookie name are authenticated data. Each secret of the
configuration (current and previous) gives a master key and its key id, both derived by
HMAC for this one purpose, so a cookie names the one key that opens it: no loop over
keys. The sealed JSON carries the data, the user, a random session id and every
deadline, so expiry is authenticated too; nothing is compressed (no CRIME-style length
leaks). Opening checks nothing but the seal: the deadlines are the engine's.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import math
import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from websession.config import Secret
from websession.core.signing import derive_key
from websession.errors import ConfigError
from websession.types import Record

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

__all__ = ["MAX_COOKIE_BYTES", "SID_LENGTH", "CookieCodec", "Payload", "finite"]

MAX_COOKIE_BYTES = 4096
"""Largest name plus value a browser keeps (RFC 6265bis); a larger cookie is an error."""

_VERSION = b"\x02"
_V1 = b"\x01"
_KID_BYTES = 4
_SALT_BYTES = 24
_NONCE = bytes(12)  # each per-message key seals one message: a fixed nonce is safe
_V1_NONCE_BYTES = 12
_TAG_BYTES = 16
_HEADER = 1 + _KID_BYTES + _SALT_BYTES
_V1_HEADER = 1 + _KID_BYTES + _V1_NONCE_BYTES
_MIN_RAW = _V1_HEADER + _TAG_BYTES + 2
_MAX_VALUE = (MAX_COOKIE_BYTES * 4) // 3 + 4
SID_LENGTH = 22
"""Characters of a session id (16 random bytes, URL-safe base64)."""
_SID_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


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

    __slots__ = ("_aad", "_aesgcm", "_current", "_invalid_tag", "_keys", "_v1")

    def __init__(self, secrets_: Iterable[Secret], cookie_name: str) -> None:
        try:  # the optional 'cookie' extra, imported only when cookie sessions are used
            from cryptography.exceptions import InvalidTag
            from cryptography.hazmat.primitives.ciphers.aead import AESGCM
        except ImportError as exc:  # pragma: no cover - only without the extra
            raise ConfigError(
                "cookie:// needs the 'cookie' extra: pip install 'websession[cookie]'"
            ) from exc
        self._invalid_tag = InvalidTag
        self._aesgcm = AESGCM
        keys: dict[bytes, hmac.HMAC] = {}
        v1: dict[bytes, AESGCM] = {}
        current: bytes | None = None
        for secret in secrets_:
            key = derive_key(secret, b"cookie-aes-256-gcm")
            kid = hmac.new(key, b"key-id", hashlib.sha256).digest()[:_KID_BYTES]
            if kid in keys:
                raise ConfigError(
                    "two session secrets give the same cookie key id: "
                    "remove the duplicate from previous_secrets"
                )
            # keyed once, copied per cookie (a copy costs less than a fresh HMAC)
            per_message = derive_key(secret, b"cookie-aes-256-gcm/per-message")
            keys[kid] = hmac.new(per_message, digestmod=hashlib.sha256)
            v1[kid] = AESGCM(key)
            current = kid if current is None else current
        if current is None:
            raise ConfigError("the cookie backend needs at least one secret")
        self._keys = keys
        self._v1 = v1
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
        return self._seal_plain(plain)

    def _seal_plain(self, plain: bytes) -> str:
        """The cookie value sealing ``plain`` under a fresh per-message key."""
        kid = self._current
        salt = os.urandom(_SALT_BYTES)
        head = _VERSION + kid
        cipher = self._aesgcm(_derived(self._keys[kid], salt))
        sealed = cipher.encrypt(_NONCE, plain, head + self._aad)
        return base64.urlsafe_b64encode(head + salt + sealed).rstrip(b"=").decode()

    def open(self, value: str) -> Payload | None:
        """Return the payload of a cookie value, or None for anything not sealed by one
        of our keys for this cookie name (the deadlines are not checked here)."""
        if not isinstance(value, str) or not 0 < len(value) <= _MAX_VALUE:
            return None
        try:
            raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        except (binascii.Error, ValueError):
            return None
        if len(raw) < _MIN_RAW:
            return None
        version, kid = raw[:1], raw[1 : 1 + _KID_BYTES]
        try:
            if version == _VERSION:
                master = self._keys.get(kid)
                if master is None or len(raw) < _HEADER + _TAG_BYTES + 2:
                    return None
                cipher = self._aesgcm(_derived(master, raw[5:_HEADER]))
                plain = cipher.decrypt(_NONCE, raw[_HEADER:], raw[:5] + self._aad)
                return _payload(plain, stale=kid != self._current)
            key = self._v1.get(kid) if version == _V1 else None
            if key is None:
                return None
            plain = key.decrypt(raw[5:_V1_HEADER], raw[_V1_HEADER:], raw[:5] + self._aad)
        except self._invalid_tag:
            return None
        return _payload(plain, stale=True)  # the old format: resealed in the current one


def _derived(master: hmac.HMAC, salt: bytes) -> bytes:
    """The per-message key: HMAC-SHA256 of ``salt`` under the keyed ``master``."""
    mac = master.copy()
    mac.update(salt)
    return mac.digest()


def _payload(plain: bytes, *, stale: bool) -> Payload | None:
    try:
        doc = orjson.loads(plain)
    except orjson.JSONDecodeError:
        return None
    if type(doc) is not dict:
        return None
    data, user, sid = doc.get("d"), doc.get("u"), doc.get("i")
    times: list[Any] = [doc.get(name) for name in ("c", "s", "e", "a", "t")]
    if (
        type(data) is not dict
        or not (user is None or (type(user) is str and user))
        or type(sid) is not str
        or len(sid) != SID_LENGTH
        or not _SID_CHARS.issuperset(sid)
        or not all(finite(t) for t in times)
    ):
        return None
    created, seen, expires, absolute, issued = (float(t) for t in times)
    return Payload(Record(data, created, seen, expires, absolute, user), sid, issued, stale)


def finite(value: Any) -> bool:
    """True for an int or float that is finite (not bool, not NaN, not infinite)."""
    return type(value) in (int, float) and math.isfinite(value)
