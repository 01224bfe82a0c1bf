"""``dual://?new=<URL>&old=<URL>``: the two inner store URLs, percent-encoded."""

from __future__ import annotations

from urllib.parse import quote, urlsplit

from websession.errors import ConfigError
from websession.stores.url import query_options

__all__ = ["dual_url", "parse_url"]

_EXAMPLE = "dual://?new=redis%3A%2F%2Fhost%2F0&old=sqlite%3A%2F%2F%2Fsessions.db"


def parse_url(url: str) -> tuple[str, str]:
    """The (new, old) store URLs of a ``dual://`` URL; ConfigError saying what to write."""
    parts = urlsplit(url)
    own, _ = query_options(parts.query, None, "dual store")
    unknown = sorted(set(own) - {"new", "old"})
    if unknown or not own.get("new") or not own.get("old"):
        raise ConfigError(
            f"a dual store URL names two percent-encoded store URLs, new and old: {_EXAMPLE}"
        )
    for name in ("new", "old"):
        if own[name].split("://", 1)[0].lower() == "dual":
            raise ConfigError(f"the dual store's {name} store cannot itself be dual://")
    return own["new"], own["old"]


def dual_url(new: str, old: str) -> str:
    """The ``dual://`` URL of the store that reads ``new`` then ``old``."""
    return f"dual://?new={quote(new, safe='')}&old={quote(old, safe='')}"
