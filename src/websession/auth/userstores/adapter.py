"""The async face of the embedded user stores (memory, SQLite).

Reads run on the event loop thread: a dict lookup or an SQLite primary-key read takes
microseconds, less than a thread hop, and the SQLite store's readers never wait for a
writer. Writes (register, password change, delete: rare) run in a worker thread, since
an SQLite write may wait for another process's write lock, which must not stall the
loop and every other request on it.
"""

from __future__ import annotations

import asyncio

from websession.auth.users import User, UserStore

__all__ = ["AsyncUserAdapter"]


class AsyncUserAdapter:
    """An ``AsyncUserStore`` over a sync ``UserStore``; both see the same users."""

    def __init__(self, store: UserStore) -> None:
        self.sync = store
        """The wrapped sync store."""

    async def get(self, user_id: str) -> User | None:
        """See ``UserStore.get``."""
        return self.sync.get(user_id)

    async def find(self, username: str) -> User | None:
        """See ``UserStore.find``."""
        return self.sync.find(username)

    async def create(self, user: User) -> bool:
        """See ``UserStore.create`` (in a worker thread)."""
        return await asyncio.to_thread(self.sync.create, user)

    async def set_password(
        self, user_id: str, *, old_hash: str, new_hash: str, changed_at: float
    ) -> bool:
        """See ``UserStore.set_password`` (in a worker thread)."""
        return await asyncio.to_thread(
            self.sync.set_password,
            user_id,
            old_hash=old_hash,
            new_hash=new_hash,
            changed_at=changed_at,
        )

    async def delete(self, user_id: str) -> bool:
        """See ``UserStore.delete`` (in a worker thread)."""
        return await asyncio.to_thread(self.sync.delete, user_id)

    async def close(self) -> None:
        """See ``UserStore.close``."""
        self.sync.close()
