"""Session tokens: 256 random bits, and the hash that stores key records by."""

from __future__ import annotations

import hashlib
import secrets

from websession.types import SessionKey

__all__ = ["TOKEN_BYTES", "TOKEN_LENGTH", "hash_token", "new_token"]

TOKEN_BYTES = 32
"""Random bytes per token (256 bits, from ``secrets``)."""
TOKEN_LENGTH = 43
"""Characters of a token in URL-safe base64 without padding."""


def new_token() -> str:
    """Return a fresh token: 32 random bytes as 43 URL-safe base64 characters."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def hash_token(token: str) -> SessionKey:
    """Return the store key of ``token``: its SHA-256 as 64 hex digits.

    A leaked store holds only these hashes, which cannot be replayed as cookies.
    """
    return SessionKey(hashlib.sha256(token.encode()).hexdigest())
