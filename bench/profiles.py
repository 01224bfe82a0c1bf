"""cProfile of websession's read and write paths, and the time of each named step."""

from __future__ import annotations

import cProfile
import importlib
import inspect
import io
import pstats
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.measure import Prepared

LOAD, EPOLL = "store load (call, decode)", "wait for the server (epoll)"

# (label, the functions whose cumulative time it is): the steps of one request through
# the ASGI middleware or the Flask session interface. A function is "module:qualname";
# one that does not exist (renamed since) is left out. Two labels are matched by name:
# LOAD (any ``load`` under websession/stores/) and EPOLL.
STEPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "session layer, whole request",
        (
            "websession.integrations.asgi:SessionMiddleware.__call__",
            "websession.integrations.flask:WebsessionInterface.open_session",
            "websession.integrations.flask:WebsessionInterface.save_session",
        ),
    ),
    ("verify the cookie signature", ("websession.core.engine:SessionEngine.verify",)),
    (LOAD, ()),
    ("engine.open (expiry check)", ("websession.core.engine:SessionEngine.open",)),
    ("engine.finish (patch, cookie)", ("websession.core.engine:SessionEngine.finish",)),
    (
        "store write (call, encode)",
        ("websession.backends._async.store:save_async", "websession.backends._sync.store:save"),
    ),
    ("render Set-Cookie", ("websession.core.cookies:SetCookie.render",)),
    ("sign the cookie", ("websession.core.signing:Signer.sign",)),
    (EPOLL, ()),
)


def _code_key(target: str) -> tuple[str, int, str] | None:
    """The pstats key of ``module:qualname`` (None if it no longer exists)."""
    module_name, _, qualname = target.partition(":")
    try:
        found: Any = importlib.import_module(module_name)
        for part in qualname.split("."):
            found = getattr(found, part)
    except (ImportError, AttributeError):
        return None
    code = getattr(inspect.unwrap(found), "__code__", None)
    if code is None:
        return None
    return code.co_filename, code.co_firstlineno, code.co_name


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
        that ``store write`` is called from inside the app's response start, or from
        Flask's ``save_session``)."""
        return max(self.steps[1:], key=lambda step: step[1])


def _step_times(stats: pstats.Stats, requests: int) -> list[tuple[str, float]]:
    table = stats.stats  # type: ignore[attr-defined]  # pstats keeps it untyped
    found: list[tuple[str, float]] = []
    for label, targets in STEPS:
        keys = {key for key in map(_code_key, targets) if key is not None}
        cumulative = 0.0
        for (filename, line, name), (_cc, _nc, _tt, ct, _callers) in table.items():
            if label == LOAD:
                hit = name == "load" and "websession/stores/" in filename
            elif label == EPOLL:
                hit = name == "<method 'poll' of 'select.epoll' objects>"
            else:
                hit = (filename, line, name) in keys
            if hit:
                cumulative += ct
        if label == LOAD and cumulative == 0.0:
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
    total = stats.total_tt  # type: ignore[attr-defined]  # untyped in typeshed
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
