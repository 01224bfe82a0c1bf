"""What every integration answers and logs when a session cannot be loaded or saved.

One place for the error bodies (JSON when the client accepts it, plain text otherwise),
their headers (``Retry-After`` on a store failure, ``Cache-Control: no-store``) and the
log line, which names the error and its cause but never a token. During an outage every
request fails alike: each kind of failure is logged at most once per
``FAILURE_LOG_INTERVAL`` seconds, with how many were left out (``FAILURES``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import orjson

from websession.errors import StoreError, WebsessionError
from websession.throttling import ThrottledLog

__all__ = [
    "FAILURES",
    "FAILURE_LOG_INTERVAL",
    "ErrorResponse",
    "error_response",
    "log_failure",
    "logger",
]

logger = logging.getLogger("websession")

FAILURE_LOG_INTERVAL = 10.0
"""Seconds between two log lines about the same kind of failed load or save."""

FAILURES = ThrottledLog(logger, FAILURE_LOG_INTERVAL)
"""The process's failure lines (``reset()`` sends the next of each kind at once)."""

_STORE_DOWN = "The session store is unavailable. Please try again shortly."
_NOT_SAVED = "The session could not be saved."


@dataclass(frozen=True, slots=True)
class ErrorResponse:
    """The response that replaces the application's: status, headers, body."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes


def error_response(exc: WebsessionError, accept: str = "") -> ErrorResponse:
    """The answer to ``exc``: its status (503 for a store failure, 413 for a session
    too large), a short message as JSON if ``accept`` mentions json, else text."""
    store_failed = isinstance(exc, StoreError)
    message = _STORE_DOWN if store_failed else _NOT_SAVED
    if "json" in accept:
        body = orjson.dumps({"error": {"code": exc.code, "message": message}})
        content_type = "application/json"
    else:
        body = message.encode()
        content_type = "text/plain; charset=utf-8"
    headers = [
        ("content-type", content_type),
        ("content-length", str(len(body))),
        ("cache-control", "no-store"),
    ]
    if store_failed:
        headers.append(("retry-after", "1"))
    return ErrorResponse(exc.status, tuple(headers), body)


def log_failure(step: str, exc: WebsessionError) -> None:
    """Log that ``step`` ("load" or "save") failed, with the driver's cause: the first
    failure of its kind (step, error and cause) at once, the same again at most once
    per ``FAILURE_LOG_INTERVAL``."""
    cause = exc.__cause__
    reason = f"{type(cause).__name__}: {cause}" if cause is not None else ""
    kind = (step, type(exc), str(exc), reason)
    FAILURES.once(kind, logging.ERROR, "websession %s failed: %s %s", step, exc, reason)
