"""The three cases: prepare a valid cookie, check each case does what it claims, time it.

Timing runs in repetitions; each repetition times every subject on every case once, in a
shuffled order, so drift (CPU frequency, server state) spreads evenly over subjects. The
overhead of a subject is its time minus the bare app's time in the same repetition.
"""

from __future__ import annotations

import gc
import random
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from bench.apps import USER, Subject
from bench.drive import Driver

CASES = ("untouched", "read", "write")
CASE_TITLES = {
    "untouched": "no cookie, session untouched",
    "read": "valid cookie, one key read",
    "write": "valid cookie, one key written",
}
PATHS = {"untouched": "/", "read": "/read", "write": "/write"}


class BenchError(AssertionError):
    """A case did not do what it claims: its timing would mean nothing."""


def expect(condition: bool, message: str) -> None:
    """Raise BenchError with ``message`` unless ``condition`` holds (also under -O)."""
    if not condition:
        raise BenchError(message)


@dataclass
class Prepared:
    """A subject with one driver per case and its batch sizes."""

    subject: Subject
    drivers: dict[str, Driver]
    batch: dict[str, int] = field(default_factory=dict)
    cookie: str | None = None


async def prepare(subject: Subject) -> Prepared:
    """Get a valid cookie (``/seed``) and build the drivers of the three cases."""
    cookie: str | None = "session=bench"  # bare apps ignore it; same request shape
    if subject.store != "none":
        seeded = await Driver(subject, "/seed", None).once()
        expect(seeded.status == 200, f"{subject.name}: /seed answered {seeded}")
        expect(seeded.body == b"seeded", f"{subject.name}: /seed answered {seeded}")
        cookie = seeded.cookie()
    drivers = {
        case: Driver(subject, PATHS[case], None if case == "untouched" else cookie)
        for case in CASES
    }
    return Prepared(subject, drivers, cookie=cookie)


async def verify(prepared: Prepared) -> None:
    """Assert every case really did what it claims, for this subject."""
    subject = prepared.subject
    name = subject.name
    untouched = await prepared.drivers["untouched"].once()
    expect(untouched.status == 200, f"{name}: untouched answered {untouched}")
    expect(untouched.body == b"ok", f"{name}: untouched answered {untouched}")
    expect(not untouched.set_cookies(), f"{name}: a cookie was set on an untouched request")
    read = await prepared.drivers["read"].once()
    expect(read.status == 200, f"{name}: read answered {read}")
    expect(read.body == USER.encode(), f"{name}: read answered {read}")
    write = await prepared.drivers["write"].once()
    expect(write.status == 200, f"{name}: write answered {write}")
    expect(write.body.isdigit(), f"{name}: write answered {write}")
    if subject.store == "none":
        return
    expect(bool(write.set_cookies()), f"{name}: no cookie was set on a write")
    check = await Driver(subject, "/check", write.cookie()).once()
    expect(check.body == write.body, f"{name}: wrote {write.body!r}, read back {check.body!r}")


async def calibrate(prepared: Prepared, target: float) -> None:
    """Choose each case's batch size so that one batch takes about ``target`` seconds."""
    for case, driver in prepared.drivers.items():
        await driver.run(20)  # warm up
        per_request = await driver.run(50) / 50
        prepared.batch[case] = max(20, min(5000, round(target / per_request)))


@dataclass
class Timings:
    """Seconds per request of each (subject, case), one value per repetition."""

    per_request: dict[tuple[str, str], list[float]] = field(default_factory=dict)
    overhead: dict[tuple[str, str], list[float]] = field(default_factory=dict)

    def median(self, name: str, case: str) -> float:
        """Median seconds per request."""
        return statistics.median(self.per_request[(name, case)])

    def median_overhead(self, name: str, case: str) -> float:
        """Median seconds per request over the bare app of the same repetition."""
        return statistics.median(self.overhead[(name, case)])

    def spread(self, name: str, case: str) -> float:
        """The interquartile range of the overhead over the repetitions, in seconds."""
        low, high = quartiles(self.overhead[(name, case)])
        return high - low


def quartiles(values: Sequence[float]) -> tuple[float, float]:
    """The 25th and 75th percentiles of ``values`` (both the value if only one)."""
    if len(values) < 2:
        return values[0], values[0]
    cuts = statistics.quantiles(values, n=4, method="inclusive")
    return cuts[0], cuts[2]


class Timed(Protocol):
    """Anything timed as ``n`` calls in a row (the raw floors)."""

    name: str

    async def run(self, n: int) -> float:
        """Seconds for ``n`` calls."""
        ...


async def time_all(
    subjects: list[Prepared],
    bare: dict[str, Prepared],
    reps: int,
    floors: Sequence[tuple[Timed, int]] = (),
    seed: int = 6,
) -> Timings:
    """Run ``reps`` interleaved repetitions over every subject and case, and the floors
    (recorded under the case ``floor``)."""
    timings = Timings()
    shuffler = random.Random(seed)
    everyone = [*bare.values(), *subjects]
    for _ in range(reps):
        gc.collect()
        for case in CASES:
            order = everyone[:]
            shuffler.shuffle(order)
            this_rep: dict[str, float] = {}
            for prepared in order:
                n = prepared.batch[case]
                seconds = await prepared.drivers[case].run(n)
                this_rep[prepared.subject.name] = seconds / n
            for prepared in everyone:
                name = prepared.subject.name
                value = this_rep[name]
                timings.per_request.setdefault((name, case), []).append(value)
                base = this_rep[bare[prepared.subject.kind].subject.name]
                timings.overhead.setdefault((name, case), []).append(value - base)
        for floor, n in floors:
            seconds = await floor.run(n)
            timings.per_request.setdefault((floor.name, "floor"), []).append(seconds / n)
    return timings
