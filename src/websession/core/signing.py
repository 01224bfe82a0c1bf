"""HMAC-SHA256 signing of cookie values with secret rotation.

A signed value is ``<token>.<signature>``, the signature being 43 URL-safe base64
characters of HMAC-SHA256 under a key derived from the secret for this one purpose.
The current secret signs; any secret of the rotation verifies, and the caller is told
to re-sign a value that verified with an older one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass

from websession.config import Secret
from websession.core.tokens import TOKEN_LENGTH, hash_token
from websession.types import SessionKey

__all__ = ["SIGNED_LENGTH", "Signer", "Verified"]

_SIG_LENGTH = 43
SIGNED_LENGTH = TOKEN_LENGTH + 1 + _SIG_LENGTH


def derive_key(secret: Secret, purpose: bytes) -> bytes:
    """Derive a key for one purpose from ``secret`` (HMAC-SHA256 of the purpose label)."""
    return hmac.new(secret.reveal(), b"websession/" + purpose, hashlib.sha256).digest()


@dataclass(frozen=True, slots=True)
class Verified:
    """A token whose signature checked out; ``stale`` if an older secret signed it."""

    token: str
    stale: bool
    key: SessionKey
    """The token's store key (``hash_token(token)``), computed once per request."""
    signed: str
    """The signed value as received: the cookie to send again while ``stale`` is false."""


class Signer:
    """Signs tokens with the first secret and verifies with any of them."""

    __slots__ = ("_keys",)

    def __init__(self, secrets: Sequence[Secret], purpose: bytes = b"session-cookie") -> None:
        if not secrets:
            raise ValueError("Signer needs at least one secret")
        # One keyed HMAC per secret, copied for each value: with OpenSSL 3 a copy costs
        # less than half of a fresh HMAC, which looks the digest up every time.
        self._keys = tuple(
            hmac.new(derive_key(s, purpose), digestmod=hashlib.sha256) for s in secrets
        )

    def _mac(self, key: hmac.HMAC, token: str) -> str:
        mac = key.copy()
        mac.update(token.encode())
        return base64.urlsafe_b64encode(mac.digest()).rstrip(b"=").decode()

    def sign(self, token: str) -> str:
        """Return ``token`` with its signature under the current secret."""
        return f"{token}.{self._mac(self._keys[0], token)}"

    def verify(self, value: str) -> Verified | None:
        """Return the token if ``value`` carries a valid signature, else None.

        Checks length and shape before any MAC, and compares in constant time. A value
        of the right length in the wrong alphabet costs one MAC and fails it: only a
        value this signer made can verify.
        """
        if len(value) != SIGNED_LENGTH or value[TOKEN_LENGTH] != "." or not value.isascii():
            return None
        token = value[:TOKEN_LENGTH]
        signature = value[TOKEN_LENGTH + 1 :]
        for index, key in enumerate(self._keys):
            if hmac.compare_digest(self._mac(key, token), signature):
                return Verified(token, index > 0, hash_token(token), value)
        return None
