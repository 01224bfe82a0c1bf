"""Helpers shared by the Django tests: a sync spy store and fresh store URLs."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from websession.integrations.django.settings import shared_store
from websession.stores.base import Store


class SyncSpy:
    """Delegates every call to a real sync store and records the operation names."""

    def __init__(self, inner: Store) -> None:
        self.inner = inner
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Any:
        target = getattr(self.inner, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls.append(name)
            return target(*args, **kwargs)

        return call

    def take(self) -> list[str]:
        """The operations since the last ``take``."""
        calls, self.calls = self.calls, []
        return calls


def spy_on(url: str) -> SyncSpy:
    """Put a spy in front of the process's shared sync store for ``url``."""
    shared = shared_store(url)
    spy = SyncSpy(shared.sync())
    shared._sync = spy  # a test double with the same methods
    return spy


def sqlite_url(tmp_path: Path) -> str:
    """A fresh SQLite store file URL."""
    return f"sqlite:///{tmp_path / f'{secrets.token_hex(4)}.db'}"
