"""cProfile of websession's read and write paths, and the time of each named step."""

from __future__ import annotations

import cProfile
import io
import pstats
from dataclasses import dataclass
from pathlib import Path

from bench.measure import Prepared

# (label, file suffix, function name): the steps of one request through the middleware.
STEPS: tuple[tuple[str, str, str], ...] = (
    ("middleware, whole request", "integrations/asgi.py", "__call__"),
    ("verify the cookie signature", "core/engine.py", "verify"),
    ("store load (call, decode)", "", "load"),
    ("engine.open (expiry check)", "core/engine.py", "open"),
    ("engine.finish (patch, cookie)", "core/engine.py", "finish"),
    ("store write (call, encode)", "backends/_async/store.py", "save_async"),
    ("render Set-Cookie", "core/cookies.py", "render"),
    ("sign the cookie", "core/signing.py", "sign"),
    ("wait for the server (epoll)", "~", "<method 'poll' of 'select.epoll' objects>"),
)


@dataclass
class Profile:
    """Per-request microseconds of each step, and the text of the profile."""

    name: str
    requests: int
    total_us: float
    steps: list[tuple[str, float]]
    text: str

    def slowest(self) -> tuple[str, float]:
        """The slowest step other than the whole request (steps do not nest, except
        that ``store write`` is called from inside the app's response start)."""
        return max(self.steps[1:], key=lambda step: step[1])


def _step_times(stats: pstats.Stats, requests: int) -> list[tuple[str, float]]:
    table = stats.stats  # type: ignore[attr-defined]
    found: list[tuple[str, float]] = []
    for label, suffix, function in STEPS:
        cumulative = 0.0
        for (filename, _line, name), (_cc, _nc, _tt, ct, _callers) in table.items():
            if name != function:
                continue
            if suffix == "" and "websession/stores/" not in filename:
                continue
            if suffix not in ("", "~") and not filename.endswith(suffix):
                continue
            cumulative += ct
        if label == "store load (call, decode)" and cumulative == 0.0:
            continue
        found.append((label, cumulative / requests * 1e6))
    return found


async def profile(prepared: Prepared, case: str, requests: int, out: Path) -> Profile:
    """Profile ``requests`` requests of ``case``; write the profile text to ``out``."""
    driver = prepared.drivers[case]
    await driver.run(50)
    profiler = cProfile.Profile()
    profiler.enable()
    await driver.run(requests)
    profiler.disable()
    stream = io.StringIO()
    stats = pstats.Stats(profiler, stream=stream)
    total = stats.total_tt  # type: ignore[attr-defined]
    steps = _step_times(stats, requests)
    name = f"{prepared.subject.name}, {case}"
    stream.write(f"# cProfile of {requests} requests: {name}\n")
    stream.write(f"# {total / requests * 1e6:.1f} us per request under the profiler\n\n")
    for label, micros in steps:
        stream.write(f"# {label:34} {micros:8.1f} us/request (cumulative)\n")
    stream.write("\n")
    stats.sort_stats("tottime").print_stats(25)
    stats.sort_stats("cumulative").print_stats(35)
    text = stream.getvalue()
    out.write_text(text)
    return Profile(name, requests, total / requests * 1e6, steps, text)
