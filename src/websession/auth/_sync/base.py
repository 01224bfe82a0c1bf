# Generated from ../_async/base.py by scripts/generate_sync.py: do not edit.
"""What every part of the auth service shares: configuration, stores and helpers."""

from __future__ import annotations

import time

from websession.auth._compat import Hashing
from websession.auth._sync.limiter import LoginLimiter
from websession.auth._sync.revocation import IndexedStore, indexed
from websession.auth.config import AuthConfig
from websession.auth.credentials import Credentials
from websession.auth.passwords import PasswordHasher
from websession.auth.users import UserStore
from websession.auth.userstores import open_user_store
from websession.config import SessionConfig
from websession.core.lifecycle import Lifecycle
from websession.events import Events
from websession.stores import open_store
from websession.stores.base import Store
from websession.types import Clock

__all__ = ["AuthBase"]


class AuthBase:
    """The service's state; ``AsyncAuth`` adds the operations (see its docstring)."""

    sessions: IndexedStore
    """The session store (revocations and failed-login counts live here too)."""
    users: UserStore
    """The user store."""

    def __init__(
        self,
        sessions: Store | str,
        users: UserStore | str,
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
        self._owned: list[Store | UserStore] = []
        if isinstance(sessions, str):
            sessions = open_store(sessions)
            self._owned.append(sessions)
        self.sessions = indexed(sessions)  # before a user store is opened
        if isinstance(users, str):
            users = open_user_store(users)
            self._owned.append(users)
        self.users = users
        self.limiter = LoginLimiter(self.config, self.sessions)
        """The failed-login limiter (its state is in the session store)."""
        self.hashing = Hashing(self.hasher, self.config.hash_workers)

    def close(self) -> None:
        """Close the stores opened from URLs and the hashing threads."""
        for store in self._owned:
            store.close()
        self._owned.clear()
        self.hashing.close()
