"""A recording wrapper around a real async store: counts operations, keeps arguments."""

from __future__ import annotations

from typing import Any

from websession.stores.base import AsyncStore


class SpyStore:
    """Delegates every call to a real store and records (method, args)."""

    def __init__(self, inner: AsyncStore) -> None:
        self.inner = inner
        self.calls: list[tuple[str, tuple[Any, ...]]] = []

    def __getattr__(self, name: str) -> Any:
        target = getattr(self.inner, name)

        async def call(*args: Any, **kwargs: Any) -> Any:
            self.calls.append((name, args + tuple(kwargs.values())))
            return await target(*args, **kwargs)

        return call

    def ops(self) -> list[str]:
        """The operation names called so far."""
        return [name for name, _ in self.calls]

    def reset(self) -> None:
        """Forget the calls so far."""
        self.calls.clear()
