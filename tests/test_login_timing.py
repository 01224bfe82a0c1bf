"""A wrong password costs the same whether the user is unknown, has a hash made with the
current parameters, or one made with older, cheaper ones (no account enumeration by
timing); the mechanism is asserted, and the timing only against wide bounds."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import argon2
import argon2.low_level
import pytest

from tests.test_auth_service import PASSWORD, make_harness
from websession.auth import AuthConfig, InvalidCredentials, User
from websession.auth.passwords import PasswordHasher
from websession.testing import FakeClock

CURRENT = AuthConfig.development(time_cost=4, memory_cost=1024)


def hash_with(**parameters: int) -> str:
    return PasswordHasher(AuthConfig.development(**parameters)).hash(PASSWORD)


@pytest.fixture
def pads(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Record every padding run (the real work still runs)."""
    runs: list[dict[str, Any]] = []
    real = argon2.low_level.hash_secret_raw

    def counted(secret: bytes, salt: bytes, **options: Any) -> bytes:
        runs.append(options)
        return real(secret, salt, **options)

    monkeypatch.setattr(argon2.low_level, "hash_secret_raw", counted)
    return runs


@pytest.mark.parametrize(
    ("parameters", "padding"),
    [
        ({"time_cost": 1, "memory_cost": 1024}, (3, 1024)),
        ({"time_cost": 2, "memory_cost": 512}, (3, 1024)),
        ({"time_cost": 1, "memory_cost": 2048}, (2, 1024)),
        ({"time_cost": 3, "memory_cost": 1024}, (1, 1024)),
        ({"time_cost": 4, "memory_cost": 1024}, None),
        ({"time_cost": 8, "memory_cost": 1024}, None),
    ],
)
def test_the_padding_makes_up_the_cost_of_older_parameters(
    parameters: dict[str, int], padding: tuple[int, int] | None
) -> None:
    hasher = PasswordHasher(CURRENT)
    assert hasher.padding(hash_with(**parameters)) == padding
    if padding is not None:
        time_cost, memory_cost = padding
        old = parameters["time_cost"] * parameters["memory_cost"]
        assert old + time_cost * memory_cost == CURRENT.time_cost * CURRENT.memory_cost


def test_a_hash_that_cannot_be_read_is_padded_to_the_full_cost() -> None:
    assert PasswordHasher(CURRENT).padding("not a hash") == (4, 1024)
    assert PasswordHasher(CURRENT).padding("") == (4, 1024)


def test_a_wrong_password_on_an_older_hash_runs_the_padding(pads: list[dict[str, Any]]) -> None:
    hasher = PasswordHasher(CURRENT)
    old = hash_with(time_cost=1, memory_cost=1024)
    assert hasher.verify(old, "a wrong guess") is False
    assert [(run["time_cost"], run["memory_cost"]) for run in pads] == [(3, 1024)]
    assert pads[0]["type"] is argon2.Type.ID
    assert pads[0]["parallelism"] == CURRENT.parallelism


def test_no_padding_for_current_hashes_the_dummy_or_a_right_password(
    pads: list[dict[str, Any]],
) -> None:
    hasher = PasswordHasher(CURRENT)
    assert hasher.verify(hasher.hash(PASSWORD), "a wrong guess") is False
    assert hasher.verify_dummy("a wrong guess") is False
    assert hasher.verify(hash_with(time_cost=1, memory_cost=1024), PASSWORD) is True
    assert pads == []


def test_a_malformed_stored_hash_is_padded_to_the_full_cost(pads: list[dict[str, Any]]) -> None:
    assert PasswordHasher(CURRENT).verify("not a hash", "a guess") is False
    assert [(run["time_cost"], run["memory_cost"]) for run in pads] == [(4, 1024)]


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_failed_login_of_a_user_with_an_older_hash_is_padded(
    mode: str, tmp_path: Path, pads: list[dict[str, Any]]
) -> None:
    h = make_harness(mode, "memory://", f"sqlite:///{tmp_path / 'users.db'}", FakeClock(), CURRENT)
    try:
        user = User("u-old", "old", hash_with(time_cost=1, memory_cost=1024), 1.0, 1.0)
        assert h.users("create", user)
        with pytest.raises(InvalidCredentials):
            h.call("login_token", "old", "a wrong guess")
        assert [(run["time_cost"], run["memory_cost"]) for run in pads] == [(3, 1024)]
        pads.clear()
        with pytest.raises(InvalidCredentials):
            h.call("login_token", "nobody", "a wrong guess")
        assert pads == []  # the dummy costs the current parameters already
    finally:
        h.close()


def timings_ms(run: Callable[[], object], rounds: int) -> list[float]:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1000)
    return times


def test_an_older_hash_costs_about_what_an_unknown_user_costs() -> None:
    """Medians of interleaved runs, with bounds wide enough for a loaded machine: the
    unpadded check of the older hash is a sixth of the dummy's work; padded, it is
    the same work."""
    current = AuthConfig.development(time_cost=6, memory_cost=2048)
    hasher = PasswordHasher(current)
    old = hash_with(time_cost=1, memory_cost=2048)
    plain = argon2.PasswordHasher(time_cost=1, memory_cost=2048, parallelism=1)

    def unpadded() -> None:
        with pytest.raises(argon2.exceptions.VerifyMismatchError):
            plain.verify(old, "a wrong guess")

    dummy: list[float] = []
    padded: list[float] = []
    bare: list[float] = []
    for _ in range(9):
        dummy += timings_ms(lambda: hasher.verify_dummy("a wrong guess"), 1)
        padded += timings_ms(lambda: hasher.verify(old, "a wrong guess"), 1)
        bare += timings_ms(unpadded, 1)
    ratio = statistics.median(padded) / statistics.median(dummy)
    control = statistics.median(bare) / statistics.median(dummy)
    assert control < 0.5, f"the older hash is not cheaper here ({control:.2f}): no test"
    assert 0.5 < ratio < 2.0, f"padded older hash / unknown user = {ratio:.2f}"
