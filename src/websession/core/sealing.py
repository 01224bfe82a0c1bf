"""Encryption at rest: each session value sealed under a key only the cookie unlocks.

With ``SessionConfig.encrypt_at_rest`` on, the store-backed backend seals every value it
writes (``seal_record``, ``seal_changes``) and opens every sealed value it reads
(``open_record``); stores never see a token and store the sealed values as any other
JSON string. A sealed value is the string ``"_ws_sealed:"`` followed by standard
base64 of::

    version 0x01 (1 byte) | key id (4 bytes) | nonce (12 bytes) | AES-256-GCM ciphertext+tag

The plaintext is the value's compact JSON. Keys (RFC 5869 HKDF-SHA256, per secret of the
configuration, current and previous)::

    prk = HMAC-SHA256(key=b"websession/at-rest/v1", msg=secret)      # HKDF-Extract
    aes key of a session = HMAC-SHA256(prk, b"session:" + token + b"\\x01")  # HKDF-Expand
    key id = HMAC-SHA256(prk, b"key-id\\x01")[:4]

The associated data is the version and key id, the record key and the field name, so a
sealed value cannot be moved to another field or another record. A store dump holds
only the token's hash, and the application secret alone derives no session's key: a
dump, even with the secret, opens nothing without the cookie.

Readable by design (``READABLE_KEYS``): the revocation marker (stores check it in
conditional replace), the device metadata (the operator tools list it) and the
``permanent`` choice; the record's user binding and times are not data and stay
readable too. Everything else, the CSRF secret and flash messages included, is sealed.

Each value is sealed on its own, so a patch still writes only the keys that changed;
a value stays sealed under the secret that sealed it until it is written again (or
the session is regenerated, which re-seals it all under the current secret). Plain
values in a sealed store (written before the switch) and sealed values in a plain one
(after switching off) are read as they are. A sealed value that no configured secret
opens (its secret was dropped, or it was tampered with) is left out of the session.
"""

from __future__ import annotations

import binascii
import hashlib
import hmac
import logging
import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import orjson

from websession.config import Secret
from websession.core.jsondata import dumps
from websession.core.lifecycle import REVOKED_KEY
from websession.core.outcomes import Create, Outcome, Replace, Update
from websession.core.session import DEVICE_KEY, PERMANENT_KEY
from websession.errors import ConfigError
from websession.extras import missing_extra
from websession.types import Changes, JSONValue, Record, SessionKey

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

__all__ = ["PREFIX", "READABLE_KEYS", "AtRest", "Sealer", "has_sealed"]

PREFIX = "_ws_sealed:"
"""How every sealed value starts."""
READABLE_KEYS = frozenset({REVOKED_KEY, DEVICE_KEY, PERMANENT_KEY})
"""websession's own keys that are never sealed: the operator tools and stores read them."""

_VERSION = b"\x01"
_KID_BYTES = 4
_NONCE_BYTES = 12
_HEAD = 1 + _KID_BYTES  # version and key id
_HEADER = _HEAD + _NONCE_BYTES
_MIN_RAW = _HEADER + 16 + 1  # a tag and at least one byte of JSON
_SALT = b"websession/at-rest/v1"
_log = logging.getLogger("websession.sealing")


def has_sealed(data: Mapping[str, JSONValue]) -> bool:
    """True if any value of ``data`` is a sealed value (one pass, no cryptography)."""
    for value in data.values():  # noqa: SIM110 - a loop costs half of any() on the hot path
        if type(value) is str and value.startswith(PREFIX):
            return True
    return False


class Sealer:
    """Seals session values with the current secret and opens them with the secret
    their key id names."""

    __slots__ = ("_aesgcm", "_current", "_invalid_tag", "_prks")

    def __init__(self, secrets: Sequence[Secret]) -> None:
        try:  # cryptography is optional: needed only when sealing is used
            from cryptography.exceptions import InvalidTag
            from cryptography.hazmat.primitives.ciphers.aead import AESGCM
        except ImportError as exc:  # pragma: no cover - only without the package
            raise missing_extra("encrypt_at_rest", "encrypt") from exc
        self._aesgcm = AESGCM
        self._invalid_tag = InvalidTag
        prks: dict[bytes, hmac.HMAC] = {}
        for secret in secrets:
            prk = hmac.new(_SALT, secret.reveal(), hashlib.sha256).digest()
            kid = hmac.new(prk, b"key-id\x01", hashlib.sha256).digest()[:_KID_BYTES]
            if kid in prks:
                raise ConfigError(
                    "two session secrets give the same key id: "
                    "remove the duplicate from previous_secrets"
                )
            prks[kid] = hmac.new(prk, b"session:", hashlib.sha256)
        if not prks:
            raise ValueError("Sealer needs at least one secret")
        self._prks = prks
        self._current = next(iter(prks))

    def _cipher(self, kid: bytes, token: str) -> AESGCM:
        mac = self._prks[kid].copy()
        mac.update(token.encode() + b"\x01")
        return self._aesgcm(mac.digest())

    # -- sealing -------------------------------------------------------------------

    def seal_data(
        self, data: Mapping[str, JSONValue], token: str, key: SessionKey
    ) -> dict[str, JSONValue]:
        """Return ``data`` with every value sealed, except ``READABLE_KEYS``."""
        kid = self._current
        cipher = self._cipher(kid, token)
        head = _VERSION + kid
        context = head + b"\x00" + key.encode() + b"\x00"
        sealed: dict[str, JSONValue] = {}
        for name, value in data.items():
            if name in READABLE_KEYS:
                sealed[name] = value
                continue
            nonce = os.urandom(_NONCE_BYTES)
            aad = context + name.encode("utf-8", "surrogatepass")
            raw = head + nonce + cipher.encrypt(nonce, dumps(value), aad)
            sealed[name] = PREFIX + binascii.b2a_base64(raw, newline=False).decode("ascii")
        return sealed

    def seal_record(self, record: Record, token: str, key: SessionKey) -> Record:
        """Return a copy of ``record`` whose data is sealed for ``token`` at ``key``."""
        return _with_data(record, self.seal_data(record.data, token, key))

    def seal_changes(self, changes: Changes, token: str, key: SessionKey) -> Changes:
        """Return ``changes`` with the values it sets sealed (the keys are unchanged)."""
        if not changes.set:
            return changes
        return Changes(
            changes.last_seen,
            changes.expires_at,
            self.seal_data(changes.set, token, key),
            changes.remove,
            changes.set_user,
            changes.user_id,
        )

    # -- opening -------------------------------------------------------------------

    def open_data(
        self, data: dict[str, JSONValue], token: str, key: SessionKey
    ) -> dict[str, JSONValue]:
        """Return ``data`` with its sealed values opened (``data`` itself if none is
        sealed); a sealed value that does not open is left out."""
        opened: dict[str, JSONValue] = {}
        ciphers: dict[bytes, AESGCM] = {}
        context = b"\x00" + key.encode() + b"\x00"
        found = lost = 0
        for name, value in data.items():
            raw = _decode(value) if type(value) is str and value.startswith(PREFIX) else None
            if raw is None:  # plain, or a plain string that only looks sealed
                opened[name] = value
                continue
            found += 1
            head = raw[:_HEAD]
            cipher = ciphers.get(head)
            if cipher is None:
                if head[1:] not in self._prks:
                    lost += 1
                    continue
                cipher = ciphers[head] = self._cipher(head[1:], token)
            try:
                aad = head + context + name.encode("utf-8", "surrogatepass")
                plain = cipher.decrypt(raw[_HEAD:_HEADER], raw[_HEADER:], aad)
            except self._invalid_tag:
                lost += 1
                continue
            opened[name] = orjson.loads(plain)
        if lost:
            _log.warning(
                "%d sealed value(s) of a session opened with no configured secret "
                "(a secret dropped from previous_secrets too early, or tampering); "
                "they are left out",
                lost,
            )
        return opened if found else data

    def open_record(self, record: Record, token: str, key: SessionKey) -> Record:
        """Return ``record`` with its sealed values opened (``record`` itself if none)."""
        data = self.open_data(record.data, token, key)
        return record if data is record.data else _with_data(record, data)


def _with_data(record: Record, data: dict[str, JSONValue]) -> Record:
    """A copy of ``record`` holding ``data`` (built directly: ``replace`` costs more)."""
    return Record(
        data,
        record.created_at,
        record.last_seen,
        record.expires_at,
        record.absolute_expires_at,
        record.user_id,
    )


def _decode(value: str) -> bytes | None:
    """The raw bytes of a sealed value, or None if ``value`` is not one."""
    try:
        raw = binascii.a2b_base64(value[len(PREFIX) :], strict_mode=True)
    except (binascii.Error, ValueError):
        return None
    if len(raw) < _MIN_RAW or raw[:1] != _VERSION:
        return None
    return raw


class AtRest:
    """What the store-backed backend does at rest: seal what it writes when
    ``encrypt_at_rest`` is on, and open sealed values it reads either way (so switching
    it off later keeps sessions readable)."""

    __slots__ = ("_sealer", "_secrets", "seals")

    def __init__(self, secrets: Sequence[Secret], *, seal: bool) -> None:
        self._secrets = tuple(secrets)
        self._sealer = Sealer(self._secrets) if seal else None
        self.seals = seal
        """True if written values are sealed."""

    def opened(self, record: Record, token: str, key: SessionKey) -> Record:
        """``record`` with its sealed values opened (``record`` itself if none)."""
        if self._sealer is None:
            if not has_sealed(record.data):  # the plain store's one cost: a scan
                return record
            self._sealer = Sealer(self._secrets)
        return self._sealer.open_record(record, token, key)

    def sealed(self, outcome: Outcome, token: str | None) -> Outcome:
        """``outcome`` with the values it writes sealed for ``token`` (the session's,
        after ``engine.finish``: the new one of a create or replace)."""
        sealer = self._sealer
        if not self.seals or sealer is None:
            return outcome
        if token is None:  # pragma: no cover - a stored or created session has its token
            raise ValueError("sealing needs the session's token")
        match outcome:
            case Update(key=key, changes=changes, cookie=cookie, gone=gone):
                return Update(key, sealer.seal_changes(changes, token, key), cookie, gone)
            case Create(key=key, record=record, cookie=cookie):
                return Create(key, sealer.seal_record(record, token, key), cookie)
            case Replace(old_key=old, key=key, record=record, cookie=cookie, gone=gone):
                return Replace(old, key, sealer.seal_record(record, token, key), cookie, gone)
        return outcome
