"""The dual store: switch an app to a new store while the old one's sessions move over.

``dual://?new=<URL>&old=<URL>`` (each URL percent-encoded, e.g. with
``urllib.parse.quote(url, safe="")``) reads the new store first and falls back to the
old one, copying a record it finds only there into the new store (with ``create``, so
nothing newer is overwritten). Every write goes to the new store; a patch, touch or
regenerate of a record present only in the old store first copies it over. Deletes
reach both stores, and a regenerated session's old key is deleted from the old store
before the new store replaces it, so an ended session never comes back from the old
store. Run ``websession migrate --from OLD --to NEW`` meanwhile, then point the app at
the new store and drop the old one (docs/operations.md walks through it).

The package::

    url.py            parse_url: the two inner URLs
    _async/store.py   AsyncDualStore; ``_sync/store.py`` is generated from it
"""

from __future__ import annotations

from websession.stores.dual._async.store import AsyncDualStore
from websession.stores.dual._sync.store import DualStore
from websession.stores.dual.url import dual_url, parse_url

__all__ = ["AsyncDualStore", "DualStore", "dual_url", "open_async", "open_sync", "parse_url"]


def open_sync(url: str) -> DualStore:
    """The sync dual store for a ``dual://`` URL."""
    from websession.stores import open_store

    new, old = parse_url(url)
    return DualStore(open_store(new), open_store(old))


def open_async(url: str) -> AsyncDualStore:
    """The async dual store for a ``dual://`` URL."""
    from websession.stores import open_async_store

    new, old = parse_url(url)
    return AsyncDualStore(open_async_store(new), open_async_store(old))
