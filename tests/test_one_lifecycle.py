"""Both backends take every lifecycle decision from core.lifecycle: driven through the
same clock script, the store-backed and the encrypted-cookie backend decide alike."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest

from websession import SessionBackend, SessionConfig
from websession.backends import StoreBackend
from websession.backends.cookie import SyncCookieBackend
from websession.core.session import Session
from websession.stores import MemoryStore
from websession.testing import FakeClock

CONFIG = SessionConfig(
    secret="k" * 32,
    secure=False,
    idle_timeout=timedelta(hours=1),
    absolute_timeout=timedelta(hours=2),
)
MINUTE = 60.0

Backends = Callable[[FakeClock], SessionBackend]
BACKENDS: dict[str, Backends] = {
    "store": lambda clock: StoreBackend(MemoryStore(), CONFIG, clock=clock),
    "cookie": lambda clock: SyncCookieBackend(CONFIG, clock=clock),
}


class Visitor:
    """A browser keeping one cookie, driving a backend through its interface only."""

    def __init__(self, backend: SessionBackend) -> None:
        self.backend = backend
        self.cookie: str | None = None

    def visit(self, handler: Callable[[Session], object]) -> tuple[bool, bool]:
        """Run one request; return (served the stored session, sent a Set-Cookie)."""
        headers = [f"session={self.cookie}"] if self.cookie else []
        session = self.backend.open(headers)
        served = not session.is_new
        handler(session)
        cookie = self.backend.save(session)
        if cookie is not None:
            self.cookie = None if cookie.deletes else cookie.value
        return served, cookie is not None


def script(backend: SessionBackend, clock: FakeClock, every: float) -> Iterator[str]:
    """Log in at minute 0, then read every ``every`` minutes until past the absolute
    deadline; yield what each request did."""
    visitor = Visitor(backend)
    visitor.visit(lambda s: s.__setitem__("user", "alice"))
    start = clock()
    while clock() - start < 125 * MINUTE:
        clock.advance(every * MINUTE)
        served, cookie = visitor.visit(lambda s: s.get("user"))
        minute = round((clock() - start) / MINUTE)
        yield f"{minute}:{'served' if served else 'anonymous'}{'+cookie' if cookie else ''}"


def decisions(name: str, every: float) -> list[str]:
    clock = FakeClock()
    return list(script(BACKENDS[name](clock), clock, every))


def refreshes(log: list[str]) -> list[int]:
    return [int(entry.split(":")[0]) for entry in log if entry.endswith("served+cookie")]


def test_the_server_engine_refreshes_at_30_and_60_only() -> None:
    log = decisions("store", 5)
    assert refreshes(log) == [30, 60]
    assert "115:served" in log
    assert "120:anonymous" in log


def test_the_cookie_engine_refreshes_at_30_and_60_only() -> None:
    assert refreshes(decisions("cookie", 5)) == [30, 60]


@pytest.mark.parametrize("every", [1, 5, 7, 29, 31, 59])
def test_both_engines_decide_alike_over_a_full_idle_and_absolute_cycle(every: float) -> None:
    assert decisions("cookie", every) == decisions("store", every)


def test_both_engines_write_on_every_change_and_stop_at_the_absolute_deadline() -> None:
    logs = {}
    for name, build in BACKENDS.items():
        clock = FakeClock()
        visitor = Visitor(build(clock))
        steps = []
        for _ in range(30):
            steps.append(visitor.visit(lambda s: s.__setitem__("n", 1)))
            clock.advance(5 * MINUTE)
        logs[name] = steps
    assert logs["store"] == logs["cookie"]
    assert logs["store"][23] == (True, True)  # minute 115: still the same session
    assert logs["store"][24] == (False, True)  # minute 120: a new one
