"""Path prefixes matched by whole segments (``exclude_paths``, per-path rules)."""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["matches_any", "path_matches"]


def path_matches(path: str, prefix: str) -> bool:
    """True if ``path`` is ``prefix`` or below it, by whole segments: ``/static``
    matches ``/static`` and ``/static/x``, not ``/statistics``; ``/`` matches all."""
    base = prefix.rstrip("/")
    return path == base or path.startswith(base + "/")


def matches_any(path: str, prefixes: Iterable[str]) -> bool:
    """True if ``path`` is one of ``prefixes`` or below one, by whole segments."""
    return any(path_matches(path, prefix) for prefix in prefixes)
