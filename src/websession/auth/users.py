"""Users: the record, the username rules, and the user store contract (sync and async).

A username is NFKC-normalized and kept as typed; it is unique without regard to case
(``username_key``: the normalized name, case-folded), so ``Alice`` and ``alice`` are
one account and the login form accepts either.

The store contract mirrors the session stores': not found is not an error (``None``
or ``False``), and errors are ``StoreError`` subclasses for system failures only.

* ``create`` never overwrites: it returns False if the id or the username is taken;
* ``set_password`` is a compare-and-set on the current hash, so a rehash on login
  never undoes a password change that happened meanwhile.
"""

from __future__ import annotations

import secrets
import unicodedata
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from websession.auth.config import AuthConfig
from websession.auth.errors import InvalidInput

__all__ = [
    "AsyncUserStore",
    "User",
    "UserStore",
    "check_username",
    "new_user_id",
    "user_row",
    "username_key",
]


@dataclass(frozen=True, slots=True)
class User:
    """One account. Times are Unix seconds."""

    id: str
    """Random, URL-safe and stable: what sessions are bound to (``Session.user_id``)."""
    username: str
    """The name as registered (NFKC-normalized)."""
    password_hash: str = field(repr=False)
    """argon2id PHC string; never shown in ``repr``."""
    created_at: float
    password_changed_at: float

    @property
    def username_key(self) -> str:
        """The unique, case-insensitive form of the username."""
        return username_key(self.username)


def user_row(user: User) -> tuple[str, str, str, str, float, float]:
    """The columns a table stores for ``user``: id, username, username_key,
    password_hash, created_at, password_changed_at."""
    return (
        user.id,
        user.username,
        user.username_key,
        user.password_hash,
        user.created_at,
        user.password_changed_at,
    )


def new_user_id() -> str:
    """A fresh user id: 128 random bits, URL-safe, never starting with ``-`` (so it can
    be given to the ``websession`` command as an argument, not taken for an option)."""
    while True:
        user_id = secrets.token_urlsafe(16)
        if user_id[0] != "-":
            return user_id


def username_key(username: str) -> str:
    """The lookup form of ``username``: NFKC-normalized and case-folded."""
    return unicodedata.normalize("NFKC", username.strip()).casefold()


def check_username(username: object, config: AuthConfig) -> str:
    """Return ``username`` normalized if it meets the rules, else raise InvalidInput.

    Rules: 1 to ``max_username_length`` characters after NFKC normalization and
    trimming; no whitespace inside and no control characters.
    """
    if not isinstance(username, str):
        raise InvalidInput("The username must be text.", field="username")
    name = unicodedata.normalize("NFKC", username).strip()
    if not name:
        raise InvalidInput("Enter a username.", field="username")
    if len(name) > config.max_username_length:
        raise InvalidInput(
            f"The username must be at most {config.max_username_length} characters.",
            field="username",
        )
    if any(c.isspace() or unicodedata.category(c)[0] == "C" for c in name):
        raise InvalidInput(
            "The username must not contain spaces or control characters.", field="username"
        )
    return name


@runtime_checkable
class UserStore(Protocol):
    """A synchronous user store."""

    def get(self, user_id: str) -> User | None:
        """Return the user with this id, or None."""
        ...

    def find(self, username: str) -> User | None:
        """Return the user whose ``username_key`` matches ``username``'s, or None."""
        ...

    def create(self, user: User) -> bool:
        """Add ``user``; return False (and change nothing) if its id or name is taken."""
        ...

    def set_password(
        self, user_id: str, *, old_hash: str, new_hash: str, changed_at: float
    ) -> bool:
        """Replace the hash if it is still ``old_hash``; return whether it was replaced."""
        ...

    def delete(self, user_id: str) -> bool:
        """Delete the user; return whether there was one."""
        ...

    def close(self) -> None:
        """Release connections and files."""
        ...


@runtime_checkable
class AsyncUserStore(Protocol):
    """The asynchronous twin of ``UserStore``."""

    async def get(self, user_id: str) -> User | None:
        """Return the user with this id, or None."""
        ...

    async def find(self, username: str) -> User | None:
        """Return the user whose ``username_key`` matches ``username``'s, or None."""
        ...

    async def create(self, user: User) -> bool:
        """Add ``user``; return False (and change nothing) if its id or name is taken."""
        ...

    async def set_password(
        self, user_id: str, *, old_hash: str, new_hash: str, changed_at: float
    ) -> bool:
        """Replace the hash if it is still ``old_hash``; return whether it was replaced."""
        ...

    async def delete(self, user_id: str) -> bool:
        """Delete the user; return whether there was one."""
        ...

    async def close(self) -> None:
        """Release connections and files."""
        ...
