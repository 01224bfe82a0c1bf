"""Bytes per session in websession's memory store, measured with tracemalloc."""

from __future__ import annotations

import gc
import time
import tracemalloc
from dataclasses import dataclass

from websession.core.tokens import hash_token, new_token
from websession.stores.memory import MemoryStore
from websession.types import Record


@dataclass
class MemoryUse:
    """Traced bytes held by the store for ``sessions`` small sessions."""

    sessions: int
    bytes_total: int

    @property
    def per_session(self) -> float:
        """Bytes per session."""
        return self.bytes_total / self.sessions

    def extrapolate(self, sessions: int) -> float:
        """Bytes for ``sessions`` sessions, at the measured rate."""
        return self.per_session * sessions


def measure(sessions: int = 100_000) -> MemoryUse:
    """Create ``sessions`` small sessions (two keys, no user) and trace what they hold."""
    now = time.time()
    keys = [hash_token(new_token()) for _ in range(sessions)]  # the caller's, not the store's
    store = MemoryStore()
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for index, key in enumerate(keys):
        record = Record({"user": f"user{index}", "n": index}, now, now, now + 3600, now + 86400)
        store.create(key, record)
    gc.collect()
    held = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    if len(store) != sessions:
        raise AssertionError(f"the memory store holds {len(store)} sessions, not {sessions}")
    # the keys themselves are held by the store too: count them in
    key_bytes = sum(key.__sizeof__() for key in keys)
    return MemoryUse(sessions, held + key_bytes)
