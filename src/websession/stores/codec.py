"""The one JSON document format of a record, for stores that keep records whole, and
the one log line of an embedded store that finds a corrupt record.

A corrupt record (not JSON, or data that is not an object) is never an error for the
embedded stores: it is logged once, removed and treated as no session."""

from __future__ import annotations

import logging
from typing import Any

import orjson

from websession.errors import StoreError
from websession.types import Record, SessionKey

__all__ = ["decode_record", "encode_record", "log_corrupt"]

logger = logging.getLogger("websession.stores")


def encode_record(record: Record) -> bytes:
    """Serialize ``record`` as one JSON object."""
    return orjson.dumps(
        {
            "data": record.data,
            "created_at": record.created_at,
            "last_seen": record.last_seen,
            "expires_at": record.expires_at,
            "absolute_expires_at": record.absolute_expires_at,
            "user_id": record.user_id,
        }
    )


def decode_record(raw: bytes | str) -> Record:
    """Parse a record written by ``encode_record``; a corrupt one raises StoreError."""
    try:
        doc: dict[str, Any] = orjson.loads(raw)
        record = Record(
            data=doc["data"],
            created_at=float(doc["created_at"]),
            last_seen=float(doc["last_seen"]),
            expires_at=float(doc["expires_at"]),
            absolute_expires_at=float(doc["absolute_expires_at"]),
            user_id=doc.get("user_id"),
        )
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise StoreError("a stored session record is corrupt") from exc
    if type(record.data) is not dict:
        raise StoreError("a stored session record is corrupt")
    return record


def log_corrupt(store: str, key: SessionKey) -> None:
    """Log that a corrupt record was removed (the caller logs once: after removing it)."""
    logger.warning(
        "%s: removed a corrupt session record %s..., treated as no session", store, key[:12]
    )
