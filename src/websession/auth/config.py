"""Auth configuration: one frozen dataclass, validated at construction.

The two presets differ only where cost or strictness must differ between a laptop and
a public service:

=============================  ========================  ==========================
setting                        ``development()``         ``production()`` (defaults)
=============================  ========================  ==========================
argon2id time / memory / lanes 1 / 1 MiB / 1 (~1 ms)     3 / 64 MiB / 4 (RFC 9106)
min_password_length            8                         12
failures per account / window  20 per 1 minute           5 per 15 minutes
failures per address / window  200 per 1 minute          100 per 15 minutes
recent_auth_max_age            1 hour                    10 minutes
=============================  ========================  ==========================

Development hashing is for tests and local demos only: never store real users'
passwords with it (``needs_rehash`` upgrades them on their next login once production
settings are in place).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from websession.errors import ConfigError

__all__ = ["AuthConfig"]

_ARGON2_MAX_MEMORY_KIB = 4 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class AuthConfig:
    """How passwords are hashed and checked, and how failed logins are limited.

    The defaults are the production settings; ``development()`` and ``production()``
    give the presets (see the module docstring for the differences).
    """

    time_cost: int = 3
    """argon2id iterations."""
    memory_cost: int = 64 * 1024
    """argon2id memory in KiB (64 MiB: RFC 9106's second recommended option)."""
    parallelism: int = 4
    """argon2id lanes."""
    hash_workers: int = 4
    """Most hashes computed at once (each holds ``memory_cost`` of RAM); async code
    runs them in a pool of this many threads, so the event loop never blocks."""
    min_password_length: int = 12
    """Shortest password accepted at registration and password change."""
    max_password_length: int = 1024
    """Longest password accepted (bounds the work a request can cause)."""
    max_username_length: int = 64
    """Longest username, in characters after NFKC normalization."""
    max_failures_per_account: int = 5
    """Failed logins allowed per account name within ``failure_window``."""
    max_failures_per_address: int = 100
    """Failed logins allowed per client address (IPv6: per /64) within ``failure_window``."""
    failure_window: timedelta = timedelta(minutes=15)
    """The fixed window failed logins are counted in; a limit lifts when it ends."""
    recent_auth_max_age: timedelta = timedelta(minutes=10)
    """Default age of a login that still counts as recent for sensitive actions."""
    login_path: str = "/login"
    """Where the web helpers send an HTML client that must log in."""
    max_user_agent_length: int = 256
    """User agents are cut to this many characters before they are recorded."""

    def __post_init__(self) -> None:
        positive = (
            "time_cost",
            "parallelism",
            "hash_workers",
            "min_password_length",
            "max_username_length",
            "max_failures_per_account",
            "max_failures_per_address",
            "max_user_agent_length",
        )
        for name in positive:
            value = getattr(self, name)
            if type(value) is not int or value < 1:
                raise ConfigError(f"{name} must be a positive int, not {value!r}")
        if type(self.memory_cost) is not int or not (
            8 * self.parallelism <= self.memory_cost <= _ARGON2_MAX_MEMORY_KIB
        ):
            raise ConfigError(
                f"memory_cost is in KiB, from 8 x parallelism ({8 * self.parallelism}) "
                f"to {_ARGON2_MAX_MEMORY_KIB}; got {self.memory_cost!r}"
            )
        if type(self.max_password_length) is not int or not (
            self.min_password_length <= self.max_password_length <= 4096
        ):
            raise ConfigError(
                "max_password_length must be at least min_password_length and at most "
                f"4096, not {self.max_password_length!r}"
            )
        for name in ("failure_window", "recent_auth_max_age"):
            value = getattr(self, name)
            if not isinstance(value, timedelta) or value < timedelta(seconds=1):
                raise ConfigError(f"{name} must be a timedelta of at least 1 second")
        if not self.login_path.startswith("/") or self.login_path.startswith("//"):
            raise ConfigError(
                f"login_path must be a local path like '/login', not {self.login_path!r}"
            )

    def replace(self, **changes: Any) -> AuthConfig:
        """Return a copy with ``changes`` applied (and validated)."""
        return dataclasses.replace(self, **changes)

    @classmethod
    def development(cls, **overrides: Any) -> AuthConfig:
        """Cheap hashing and lenient limits for tests and local demos."""
        options: dict[str, Any] = {
            "time_cost": 1,
            "memory_cost": 1024,
            "parallelism": 1,
            "min_password_length": 8,
            "max_failures_per_account": 20,
            "max_failures_per_address": 200,
            "failure_window": timedelta(minutes=1),
            "recent_auth_max_age": timedelta(hours=1),
        }
        options.update(overrides)
        return cls(**options)

    @classmethod
    def production(cls, **overrides: Any) -> AuthConfig:
        """The defaults: RFC 9106 argon2id, 12-character passwords, 5 failures per
        account and 100 per address in 15 minutes, 10-minute recent-auth window."""
        return cls(**overrides)
