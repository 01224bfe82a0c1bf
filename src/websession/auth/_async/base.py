"""What every part of the auth service shares: configuration, stores and helpers."""

from __future__ import annotations

import time

from websession.auth._async.limiter import AsyncLoginLimiter
from websession.auth._async.revocation import AsyncIndexedStore, indexed_async
from websession.auth._compat import AsyncHashing
from websession.auth.config import AuthConfig
from websession.auth.credentials import Credentials
from websession.auth.passwords import PasswordHasher
from websession.auth.users import AsyncUserStore
from websession.auth.userstores import open_async_user_store
from websession.config import SessionConfig
from websession.core.lifecycle import Lifecycle
from websession.events import Events
from websession.stores import open_async_store
from websession.stores.base import AsyncStore
from websession.types import Clock

__all__ = ["AsyncAuthBase"]


class AsyncAuthBase:
    """The service's state; ``AsyncAuth`` adds the operations (see its docstring)."""

    sessions: AsyncIndexedStore
    """The session store (revocations and failed-login counts live here too)."""
    users: AsyncUserStore
    """The user store."""

    def __init__(
        self,
        sessions: AsyncStore | str,
        users: AsyncUserStore | str,
        *,
        session_config: SessionConfig,
        config: AuthConfig | None = None,
        clock: Clock = time.time,
        events: Events | None = None,
    ) -> None:
        self.events = events
        """Lifecycle event subscribers (``websession.events``), if any."""
        self.config = config if config is not None else AuthConfig.production()
        """The auth settings (``AuthConfig.production()`` unless given)."""
        self.session_config = session_config
        """The session middleware's settings: tokens and deadlines agree with it."""
        self.clock = clock
        """The service's clock (Unix seconds)."""
        self.lifecycle = Lifecycle(session_config)
        """The session lifecycle rules (deadlines, liveness, revocation)."""
        self.hasher = PasswordHasher(self.config)
        """The password hasher (argon2id with ``config``'s parameters)."""
        self.credentials = Credentials(session_config)
        self._owned: list[AsyncStore | AsyncUserStore] = []
        if isinstance(sessions, str):
            sessions = open_async_store(sessions)
            self._owned.append(sessions)
        self.sessions = indexed_async(sessions)  # before a user store is opened
        if isinstance(users, str):
            users = open_async_user_store(users)
            self._owned.append(users)
        self.users = users
        self.limiter = AsyncLoginLimiter(self.config, self.sessions)
        """The failed-login limiter (its state is in the session store)."""
        self.hashing = AsyncHashing(self.hasher, self.config.hash_workers)

    async def close(self) -> None:
        """Close the stores opened from URLs and the hashing threads."""
        for store in self._owned:
            await store.close()
        self._owned.clear()
        await self.hashing.close()
