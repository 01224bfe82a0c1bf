"""Password hashing with argon2id (argon2-cffi), and the password rules.

* ``hash`` and ``verify`` are CPU-bound and blocking: the async service runs them in
  a worker pool, never on the event loop. At most ``AuthConfig.hash_workers`` run at
  once (each holds ``memory_cost`` of RAM).
* ``verify_dummy`` does the work of a real verification against a hash made with the
  current parameters when the hasher is built (at start-up, not on the first unknown
  user), so a login for a user who does not exist costs the same time
  as one with a wrong password (no account enumeration by timing).
* ``needs_rehash`` is true for a hash made with other parameters: the service
  re-hashes the password on the next successful login.

Passwords are NFKC-normalized before hashing (NIST SP 800-63B), so the same password
typed on two keyboards that encode it differently still matches.
"""

from __future__ import annotations

import threading
import unicodedata

from websession.auth.config import AuthConfig
from websession.auth.errors import InvalidInput
from websession.errors import ConfigError

_MISSING: ImportError | None = None
try:
    import argon2
    from argon2.exceptions import InvalidHashError, VerificationError
except ImportError as exc:  # pragma: no cover - depends on the installed extras
    _MISSING = exc  # raised when a hasher is made: the CLI imports auth without it

__all__ = ["PasswordHasher", "check_password"]

_DUMMY_PASSWORD = "websession: no such user"  # noqa: S105 - not a credential


def normalize_password(password: str) -> str:
    """The form of ``password`` that is hashed: NFKC-normalized."""
    return unicodedata.normalize("NFKC", password)


def check_password(
    password: object, config: AuthConfig, *, field: str = "password", username: str = ""
) -> str:
    """Return ``password`` normalized if it meets the rules, else raise InvalidInput.

    Rules: a str of ``min_password_length`` to ``max_password_length`` characters,
    not only whitespace, and not the username itself.
    """
    if not isinstance(password, str):
        raise InvalidInput("The password must be text.", field=field)
    normalized = normalize_password(password)
    if len(normalized) < config.min_password_length:
        raise InvalidInput(
            f"The password must be at least {config.min_password_length} characters.",
            field=field,
        )
    if len(normalized) > config.max_password_length:
        raise InvalidInput(
            f"The password must be at most {config.max_password_length} characters.",
            field=field,
        )
    if not normalized.strip():
        raise InvalidInput("The password must not be only spaces.", field=field)
    if username and normalized.casefold() == username.casefold():
        raise InvalidInput("The password must not be the username.", field=field)
    return normalized


class PasswordHasher:
    """argon2id with the parameters of one ``AuthConfig``; thread-safe."""

    def __init__(self, config: AuthConfig) -> None:
        if _MISSING is not None:  # pragma: no cover - depends on the installed extras
            raise ConfigError(
                "websession.auth needs the 'auth' extra: pip install 'websession[auth]'"
            ) from _MISSING
        self._hasher = argon2.PasswordHasher(
            time_cost=config.time_cost,
            memory_cost=config.memory_cost,
            parallelism=config.parallelism,
            type=argon2.Type.ID,
        )
        self._slots = threading.BoundedSemaphore(config.hash_workers)
        # built now, at start-up: the first unknown-user login costs what any other does
        self._dummy = self._hasher.hash(_DUMMY_PASSWORD)

    def hash(self, password: str) -> str:
        """Return the argon2id hash (PHC string) of ``password``. Blocking."""
        return self._hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        """True if ``password`` matches ``password_hash``. Blocking.

        A malformed stored hash never matches (it fails closed).
        """
        return self._verify(password_hash, password)

    def verify_dummy(self, password: str) -> bool:
        """Do the work of ``verify`` against a hash of no one's password; False."""
        self._verify(self._dummy, password)
        return False

    def needs_rehash(self, password_hash: str) -> bool:
        """True if ``password_hash`` was made with other parameters than these."""
        try:
            return self._hasher.check_needs_rehash(password_hash)
        except (InvalidHashError, ValueError):
            return True

    def _hash(self, password: str) -> str:
        with self._slots:
            return self._hasher.hash(normalize_password(password))

    def _verify(self, password_hash: str, password: str) -> bool:
        with self._slots:
            try:
                return self._hasher.verify(password_hash, normalize_password(password))
            except (VerificationError, InvalidHashError):
                return False

    def _dummy_hash(self) -> str:
        return self._dummy
