"""Password hashing with argon2id (argon2-cffi), and the password rules.

* ``hash`` and ``verify`` are CPU-bound and blocking: the async service runs them in
  a worker pool, never on the event loop. At most ``AuthConfig.hash_workers`` run at
  once (each holds ``memory_cost`` of RAM).
* ``verify_dummy`` does the work of a real verification against a hash made with the
  current parameters when the hasher is built (at start-up, not on the first unknown
  user), so a login for a user who does not exist costs the same time
  as one with a wrong password (no account enumeration by timing).
* A stored hash made with older, cheaper parameters (or one that cannot be read)
  would answer a wrong password faster than the dummy does, telling an attacker the
  account exists. So a failed ``verify`` of such a hash is padded with argon2id work
  making up the difference, counted in memory blocks times passes
  (``time_cost * memory_cost``, the parallelism of the current parameters), and every
  wrong password costs what the current parameters cost. A hash made with *more*
  expensive parameters (after lowering them) is not padded down: it still costs more
  until the user's next login re-hashes it.
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
    import argon2.low_level
    from argon2.exceptions import InvalidHashError, VerificationError
except ImportError as exc:  # pragma: no cover - depends on the installed extras
    _MISSING = exc  # raised when a hasher is made: the CLI imports auth without it

__all__ = ["PasswordHasher", "check_password"]

_DUMMY_PASSWORD = "websession: no such user"  # noqa: S105 - not a credential
_PAD_SALT = b"websession: padding"
_MAX_PADDINGS = 64  # distinct older parameter sets remembered


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
        self._cost = config.time_cost * config.memory_cost
        self._memory = config.memory_cost
        self._parallelism = config.parallelism
        self._paddings: dict[str, tuple[int, int] | None] = {}
        self._slots = threading.BoundedSemaphore(config.hash_workers)
        # built now, at start-up: the first unknown-user login costs what any other does
        self._dummy = self._hasher.hash(_DUMMY_PASSWORD)

    def hash(self, password: str) -> str:
        """Return the argon2id hash (PHC string) of ``password``. Blocking."""
        return self._hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        """True if ``password`` matches ``password_hash``. Blocking.

        A malformed stored hash never matches (it fails closed). A mismatch against a
        hash cheaper than the current parameters is padded up to their cost.
        """
        with self._slots:
            matched = self._check(password_hash, password)
            if not matched:
                self._pad(password_hash)
            return matched

    def verify_dummy(self, password: str) -> bool:
        """Do the work of ``verify`` against a hash of no one's password; False."""
        with self._slots:
            self._check(self._dummy, password)
        return False

    def needs_rehash(self, password_hash: str) -> bool:
        """True if ``password_hash`` was made with other parameters than these."""
        try:
            return self._hasher.check_needs_rehash(password_hash)
        except (InvalidHashError, ValueError):
            return True

    def padding(self, password_hash: str) -> tuple[int, int] | None:
        """The argon2id ``(time_cost, memory_cost)`` added to a failed verification of
        ``password_hash``, or None if it costs at least the current parameters."""
        prefix = password_hash.rpartition("$")[0].rpartition("$")[0]  # without salt, hash
        if prefix in self._paddings:
            return self._paddings[prefix]
        try:
            params = argon2.extract_parameters(password_hash)
            cost = params.time_cost * params.memory_cost
        except (InvalidHashError, ValueError):
            cost = 0  # fails at once: pad it all
        padding = _padding(self._cost - cost, self._memory, self._parallelism)
        if len(self._paddings) < _MAX_PADDINGS:
            self._paddings[prefix] = padding
        return padding

    def _pad(self, password_hash: str) -> None:
        padding = self.padding(password_hash)
        if padding is not None:
            time_cost, memory_cost = padding
            argon2.low_level.hash_secret_raw(
                b"",
                _PAD_SALT,
                time_cost=time_cost,
                memory_cost=memory_cost,
                parallelism=self._parallelism,
                hash_len=16,
                type=argon2.Type.ID,
            )

    def _hash(self, password: str) -> str:
        with self._slots:
            return self._hasher.hash(normalize_password(password))

    def _check(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, normalize_password(password))
        except (VerificationError, InvalidHashError):
            return False

    def _dummy_hash(self) -> str:
        return self._dummy


def _padding(work: int, memory: int, parallelism: int) -> tuple[int, int] | None:
    """argon2id ``(time_cost, memory_cost)`` doing about ``work`` memory blocks times
    passes, with the fewest passes over at most ``memory`` KiB; None for less than the
    smallest argon2 memory (``8 * parallelism`` KiB, a negligible cost)."""
    smallest = 8 * parallelism
    if work < smallest:
        return None
    passes = -(-work // memory)
    return passes, max(smallest, work // passes)
