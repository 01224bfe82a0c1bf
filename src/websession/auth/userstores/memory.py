"""In-process user store: a dict guarded by a lock (tests, demos, one process)."""

from __future__ import annotations

import dataclasses
import threading

from websession.auth.users import User, username_key

__all__ = ["MemoryUserStore"]


class MemoryUserStore:
    """Users in two dicts (by id, by username key); gone with the process."""

    def __init__(self) -> None:
        self._by_id: dict[str, User] = {}
        self._by_name: dict[str, str] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._by_id)

    def get(self, user_id: str) -> User | None:
        """See ``UserStore.get``."""
        return self._by_id.get(user_id)

    def find(self, username: str) -> User | None:
        """See ``UserStore.find``."""
        user_id = self._by_name.get(username_key(username))
        return None if user_id is None else self._by_id.get(user_id)

    def create(self, user: User) -> bool:
        """See ``UserStore.create``."""
        name = user.username_key
        with self._lock:
            if user.id in self._by_id or name in self._by_name:
                return False
            self._by_id[user.id] = user
            self._by_name[name] = user.id
        return True

    def set_password(
        self, user_id: str, *, old_hash: str, new_hash: str, changed_at: float
    ) -> bool:
        """See ``UserStore.set_password``."""
        with self._lock:
            user = self._by_id.get(user_id)
            if user is None or user.password_hash != old_hash:
                return False
            self._by_id[user_id] = dataclasses.replace(
                user, password_hash=new_hash, password_changed_at=changed_at
            )
        return True

    def delete(self, user_id: str) -> bool:
        """See ``UserStore.delete``."""
        with self._lock:
            user = self._by_id.pop(user_id, None)
            if user is None:
                return False
            del self._by_name[user.username_key]
        return True

    def close(self) -> None:
        """Nothing to release."""
