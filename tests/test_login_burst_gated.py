"""The failed-login limit under a gated burst (issue 10): no password is verified until
every guess of the burst has either reached verification or been refused, so each guess
has passed the limiter before any verification's outcome could be counted. Checked
before and counted after (the old scheme), all 60 guesses would reach verification;
reserved first, at most the limit do. Real concurrency (threads or one event loop) on
every real session store, sync and async, per account and per address."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.test_auth_service import clock as clock  # the shared fixture
from tests.test_auth_service import make_harness, register
from tests.test_auth_userstores import SESSION_STORES, session_store_url
from websession.auth import AuthConfig, InvalidCredentials, TooManyAttempts
from websession.testing import FakeClock

BURST = 60
LIMIT = 5
WAIT = 10.0  # seconds: with the old scheme the gate never opens; then the count fails


class Gate:
    """Opens when every guess has reached verification or been refused."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.verifying = 0
        self.refused = 0
        self._lock = threading.Lock()
        self.opened = threading.Event()
        self.opened_async = asyncio.Event()

    def arrived(self, *, refused: bool) -> None:
        with self._lock:
            if refused:
                self.refused += 1
            else:
                self.verifying += 1
            if self.verifying + self.refused == self.total:
                self.opened.set()
                self.opened_async.set()


def gate_sync(target: Any, names: tuple[str, ...], gate: Gate) -> None:
    for name in names:
        real: Callable[..., Any] = getattr(target, name)

        def verify(*args: Any, _real: Callable[..., Any] = real) -> Any:
            gate.arrived(refused=False)
            gate.opened.wait(WAIT)
            return _real(*args)

        setattr(target, name, verify)


def gate_async(target: Any, names: tuple[str, ...], gate: Gate) -> None:
    for name in names:
        real: Callable[..., Any] = getattr(target, name)

        async def verify(*args: Any, _real: Callable[..., Any] = real) -> Any:
            gate.arrived(refused=False)
            with contextlib.suppress(TimeoutError):  # never opened: go on, the count fails
                await asyncio.wait_for(gate.opened_async.wait(), WAIT)
            return await _real(*args)

        setattr(target, name, verify)


def count_refusals(limiter: Any, gate: Gate, *, is_async: bool) -> None:
    real: Callable[..., Any] = limiter.reserve
    if is_async:

        async def reserve_async(*args: Any) -> Any:
            try:
                return await real(*args)
            except TooManyAttempts:
                gate.arrived(refused=True)
                raise

        limiter.reserve = reserve_async
    else:

        def reserve(*args: Any) -> Any:
            try:
                return real(*args)
            except TooManyAttempts:
                gate.arrived(refused=True)
                raise

        limiter.reserve = reserve


@pytest.mark.parametrize("scope", ["account", "address"])
@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("session_kind", SESSION_STORES)
def test_a_gated_burst_of_guesses_verifies_at_most_the_limit(
    session_kind: str, mode: str, scope: str, clock: FakeClock, tmp_path: Path
) -> None:
    per_account, per_address = (LIMIT, 1000) if scope == "account" else (1000, LIMIT)
    config = AuthConfig.development(
        max_failures_per_account=per_account, max_failures_per_address=per_address
    )
    sessions = session_store_url(session_kind, tmp_path)
    h = make_harness(mode, sessions, "memory://", clock, config)
    try:
        register(h, "target")
        gate = Gate(BURST)
        names = ("verify", "verify_dummy")
        if mode == "async":
            gate_async(h.auth.hashing, names, gate)
        else:
            gate_sync(h.auth.hashing, names, gate)
        count_refusals(h.auth.limiter, gate, is_async=mode == "async")
        guesses = [
            ("target" if scope == "account" else f"name{i}", f"guess {i}") for i in range(BURST)
        ]
        outcomes = h.concurrently("login_token", guesses, ip="192.0.2.7")
        assert all(isinstance(o, InvalidCredentials | TooManyAttempts) for o in outcomes)
        assert gate.opened.is_set()  # every guess passed the limiter before any verified
        assert gate.verifying == sum(isinstance(o, InvalidCredentials) for o in outcomes)
        assert gate.verifying <= LIMIT
    finally:
        h.close()
