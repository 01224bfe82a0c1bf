"""What commands print: aligned tables for people, JSON for scripts.

Times print as UTC (``2026-12-02 17:20:00 UTC``) in tables and as ISO 8601 strings in
JSON. Session keys print as their first 12 hex digits (``key_prefix``): enough to name
a session to ``show`` or ``revoke --session``, never a token (stores never hold one).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, TextIO

__all__ = ["KEY_PREFIX", "emit_json", "iso", "key_prefix", "table", "when"]

KEY_PREFIX = 12
"""Hex digits of a session key shown to operators."""


def key_prefix(key: str) -> str:
    """What operators see of a store key."""
    return key[:KEY_PREFIX]


def when(timestamp: float) -> str:
    """A Unix time for a table."""
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def iso(timestamp: float) -> str:
    """A Unix time for JSON."""
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds")


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """Rows under headers, each column as wide as its widest cell."""
    cells = [[str(h) for h in headers]] + [["" if c is None else str(c) for c in r] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def emit_json(document: dict[str, Any], out: TextIO | None = None) -> None:
    """Print ``document`` as one JSON object."""
    print(json.dumps(document, indent=2, sort_keys=False), file=out or sys.stdout)
