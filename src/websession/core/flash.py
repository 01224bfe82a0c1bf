"""Flash messages: the one format every integration shares.

They live under ``FLASH_KEY`` (Flask's own ``_flashes``) as a list of
``[category, message]`` pairs. A message Flask stored as ``Markup`` is the tagged
``{" m": html}`` (Flask's tagged JSON); read outside Flask it is its HTML text.
"""

from __future__ import annotations

from typing import Any

__all__ = ["FLASH_KEY", "MARKUP_TAG", "add_flash", "flash_text", "take_flashes"]

FLASH_KEY = "_flashes"
"""Where flash messages live, as ``[category, message]`` pairs (Flask's own key)."""
MARKUP_TAG = " m"
"""The tag of a ``Markup`` value in Flask's tagged JSON."""


def add_flash(queued: Any, message: str, category: str) -> list[Any]:
    """Return the queue ``queued`` (None when empty) with one more message."""
    pairs = list(queued) if isinstance(queued, list | tuple) else []
    pairs.append([category, message])
    return pairs


def flash_text(message: Any) -> str:
    """The text of a queued message (a tagged ``Markup`` as its HTML)."""
    if isinstance(message, dict) and len(message) == 1 and MARKUP_TAG in message:
        return str(message[MARKUP_TAG])
    return str(message)


def take_flashes(
    queued: Any, category: str | None
) -> tuple[list[tuple[str, str]], list[list[Any]]]:
    """Split ``queued`` into the messages taken (all, or those of ``category``) as
    ``(category, text)`` and the pairs kept in the session."""
    pairs = [(str(c), m) for c, m in queued] if isinstance(queued, list | tuple) else []
    taken = [(c, flash_text(m)) for c, m in pairs if category is None or c == category]
    kept = [] if category is None else [[c, m] for c, m in pairs if c != category]
    return taken, kept
