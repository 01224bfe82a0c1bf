"""Carry out an engine outcome on a store: kept for callers of the earlier API.

The store-backed backend (``websession.backends``) does this itself; ``save_async`` and
``save`` are its helpers, generated from one async source.
"""

from __future__ import annotations

from websession.backends._async.store import save_async
from websession.backends._sync.store import save

__all__ = ["save", "save_async"]
