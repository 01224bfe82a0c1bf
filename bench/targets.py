"""Issue 13's speed targets, as ratios taken within one run, and a few context ratios.

Each in-process ratio is the median numerator over the median denominator; its spread
is the interquartile range of the same ratio taken repetition by repetition (both sides
come from the same repetition), so a reader can judge a ratio that sits near its goal.
End-to-end ratios are median requests/s over the bare app's median in the same rounds;
their spread is the p25 to p75 of the ratio taken round by round, and wrk's deviation
of the per-second rate.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from bench import e2e, floors
from bench.e2e import Rate
from bench.measure import Timings, quartiles
from bench.names import (
    DJANGO_CACHE,
    DJANGO_DB,
    E2E_MEMORY,
    E2E_REDIS,
    E2E_SQLITE,
    FLASK_DEFAULT,
    FLASK_SESSION,
    FLASK_SESSION_NO_REFRESH,
    SS_MEMORY,
    SS_REDIS,
    STARLETTE,
    WS_DJANGO_REDIS,
    WS_DJANGO_SQLITE,
    WS_FLASK_REDIS,
    WS_FLASK_REDIS_REFRESH,
    WS_FLASK_SQLITE,
    WS_MEMORY,
    WS_MYSQL,
    WS_POSTGRES,
    WS_REDIS,
    WS_SQLITE,
)

Series = list[float] | None
"""Seconds per repetition (None: not measured)."""


@dataclass
class Target:
    """One goal, as a ratio: met when ``value`` is on the right side of ``goal``."""

    name: str
    value: float | None
    goal: float
    at_most: bool = True
    note: str = ""
    spread: str = ""
    """How noisy the ratio was (see the module docstring)."""
    strict: bool = False
    """"ahead of": met only strictly below (or above) the goal."""

    def verdict(self) -> str:
        """met / missed / not measured."""
        if self.value is None:
            return "not measured"
        if self.strict:
            met = self.value < self.goal if self.at_most else self.value > self.goal
        else:
            met = self.value <= self.goal if self.at_most else self.value >= self.goal
        return "met" if met else "**missed**"

    def shortfall(self) -> str:
        """How far a missed target is from its goal (empty when met or not measured)."""
        if self.verdict() != "**missed**" or self.value is None or self.goal <= 0:
            return ""
        if self.at_most:
            return f"{self.value / self.goal - 1:.0%} over"
        return f"{1 - self.value / self.goal:.0%} under"

    def verdict_text(self) -> str:
        """The verdict, with the shortfall of a missed target."""
        short = self.shortfall()
        return f"{self.verdict()} ({short})" if short else self.verdict()

    def goal_text(self) -> str:
        """``≤ 0.5``, ``< 1``, ``≥ 0.85`` …"""
        sign = ("<" if self.strict else "≤") if self.at_most else (">" if self.strict else "≥")
        return f"{sign} {self.goal:g}"


@dataclass
class Ratio:
    """A ratio of two per-repetition series, and the quartiles of its per-rep values."""

    value: float | None
    spread: str = ""


def _add(a: Series, b: Series) -> Series:
    return None if a is None or b is None else [x + y for x, y in zip(a, b, strict=True)]


def _sub(a: Series, b: Series) -> Series:
    return None if a is None or b is None else [x - y for x, y in zip(a, b, strict=True)]


def ratio(num: Series, den: Series) -> Ratio:
    """``median(num) / median(den)``, with the p25 to p75 of ``num[i] / den[i]``."""
    if not num or not den:
        return Ratio(None)
    bottom = statistics.median(den)
    if bottom <= 0:
        return Ratio(None)
    per_rep = [a / b for a, b in zip(num, den, strict=False) if b > 0]
    spread = ""
    if per_rep:
        low, high = quartiles(per_rep)
        spread = f"{low:.2f} to {high:.2f}"
    return Ratio(statistics.median(num) / bottom, spread)


class _Sources:
    """Per-repetition series of the run, by subject and case or by floor."""

    def __init__(self, timings: Timings, names: set[str]) -> None:
        self.timings = timings
        self.names = names

    def over(self, name: str, case: str) -> Series:
        if name not in self.names:
            return None
        return self.timings.overhead.get((name, case))

    def floor(self, name: str) -> Series:
        return self.timings.per_request.get((name, "floor"))


def _target(
    name: str, found: Ratio, goal: float, *, at_most: bool = True, note: str = ""
) -> Target:
    return Target(name, found.value, goal, at_most, note, found.spread)


def _asgi(s: _Sources) -> list[Target]:
    out = [
        _target(
            f"ASGI untouched: {store} / Starlette overhead",
            ratio(s.over(store, "untouched"), s.over(STARLETTE, "untouched")),
            0.5,
        )
        for store in (WS_MEMORY, WS_SQLITE, WS_REDIS)
    ]
    out += [
        _target(
            f"ASGI read: {store} / Starlette overhead",
            ratio(s.over(store, "read"), s.over(STARLETTE, "read")),
            0.5,
        )
        for store in (WS_MEMORY, WS_SQLITE)
    ]
    out.append(
        _target(
            "ASGI write: websession memory / starsessions memory overhead",
            ratio(s.over(WS_MEMORY, "write"), s.over(SS_MEMORY, "write")),
            0.5,
        )
    )
    out.append(
        _target(
            "ASGI write: websession SQLite / Starlette overhead",
            ratio(s.over(WS_SQLITE, "write"), s.over(STARLETTE, "write")),
            0.8,
        )
    )
    return out


def _redis_postgres(s: _Sources) -> list[Target]:
    get, write = s.floor(floors.REDIS_GET), s.floor(floors.REDIS_WRITE)
    select, patch = s.floor(floors.PG_SELECT), s.floor(floors.PG_PATCH)
    return [
        _target(
            "Redis read: websession overhead / raw GET",
            ratio(s.over(WS_REDIS, "read"), get),
            1.15,
        ),
        _target(
            "Redis write: websession overhead / (raw GET + raw pipelined write)",
            ratio(s.over(WS_REDIS, "write"), _add(get, write)),
            1.1,
            note="the whole write request",
        ),
        _target(
            "Redis read: starsessions / websession overhead",
            ratio(s.over(SS_REDIS, "read"), s.over(WS_REDIS, "read")),
            3.0,
            at_most=False,
            note="higher is better",
        ),
        _target(
            "PostgreSQL read: websession overhead / raw psycopg async PK SELECT",
            ratio(s.over(WS_POSTGRES, "read"), select),
            1.2,
        ),
        _target(
            "PostgreSQL write: websession overhead / (raw SELECT + raw patch UPDATE)",
            ratio(s.over(WS_POSTGRES, "write"), _add(select, patch)),
            1.2,
        ),
    ]


def _flask(s: _Sources) -> list[Target]:
    return [
        _target(
            "Flask Redis read: websession / Flask-Session (refresh off) overhead",
            ratio(s.over(WS_FLASK_REDIS, "read"), s.over(FLASK_SESSION_NO_REFRESH, "read")),
            1.0,
            note="its read is one GET",
        ),
        _target(
            "Flask Redis write: websession / Flask-Session overhead",
            ratio(s.over(WS_FLASK_REDIS, "write"), s.over(FLASK_SESSION, "write")),
            0.8,
            note="Flask-Session's default, refresh on; a write is GET + SET either way",
        ),
        *(
            _target(
                f"Flask SQLite {case}: websession / Flask signed-cookie session overhead",
                ratio(s.over(WS_FLASK_SQLITE, case), s.over(FLASK_DEFAULT, case)),
                0.5,
            )
            for case in ("read", "write")
        ),
    ]


def _django(s: _Sources) -> list[Target]:
    out = []
    for ours, theirs in ((WS_DJANGO_SQLITE, DJANGO_DB), (WS_DJANGO_REDIS, DJANGO_CACHE)):
        for case in ("untouched", "read", "write"):
            found = ratio(s.over(ours, case), s.over(theirs, case))
            target = _target(f"Django {case}: {ours} / {theirs} overhead", found, 1.0)
            target.strict = True
            out.append(target)
    return out


E2E_GOALS = (
    (E2E_MEMORY, "read", 0.85),
    (E2E_SQLITE, "read", 0.85),
    (E2E_SQLITE, "write", 0.65),
    (E2E_REDIS, "read", 0.7),
    (E2E_REDIS, "write", 0.5),
)


def _e2e(rates: list[Rate], connections: Sequence[int]) -> list[Target]:
    out = []
    for count in connections:
        for subject, case, goal in E2E_GOALS:
            rps, bare = e2e.rps(rates, subject, case, count), e2e.bare_rps(rates, case, count)
            value = None if rps is None or not bare else rps / bare
            out.append(
                Target(
                    f"e2e {case}, {count} conn: {subject} / bare requests/s",
                    value,
                    goal,
                    at_most=False,
                    spread=_e2e_spread(rates, subject, case, count),
                )
            )
    return out


def _e2e_spread(rates: list[Rate], subject: str, case: str, count: int) -> str:
    parts = []
    per_round = e2e.round_ratios(rates, subject, case, count)
    if len(per_round) > 1:
        low, high = quartiles(per_round)
        parts.append(f"{low:.2f} to {high:.2f}")
    ours = e2e.find(rates, subject, case, count)
    if ours is not None and ours.deviation is not None:
        parts.append(f"wrk ±{ours.deviation * 100:.0f}%")
    return ", ".join(parts)


def issue_targets(
    timings: Timings, names: set[str], rates: list[Rate], connections: Sequence[int]
) -> list[Target]:
    """Every target of issue 13, in its order: ASGI, Redis and PostgreSQL, Flask,
    Django, end to end at each concurrency."""
    s = _Sources(timings, names)
    return [*_asgi(s), *_redis_postgres(s), *_flask(s), *_django(s), *_e2e(rates, connections)]


def context_ratios(timings: Timings, names: set[str]) -> list[tuple[str, Ratio]]:
    """Ratios with no goal in issue 13 that help to read the targets."""
    s = _Sources(timings, names)
    write = s.floor(floors.REDIS_WRITE)
    sqlite_floor = _add(s.floor(floors.SQLITE_SELECT), s.floor(floors.SQLITE_UPDATE))
    return [
        (
            "ASGI read: websession memory / starsessions memory overhead",
            ratio(s.over(WS_MEMORY, "read"), s.over(SS_MEMORY, "read")),
        ),
        (
            "ASGI write: websession SQLite overhead / (raw SQLite SELECT + UPDATE)",
            ratio(s.over(WS_SQLITE, "write"), sqlite_floor),
        ),
        (
            "Redis write: (write - read overhead) / raw pipelined write",
            ratio(_sub(s.over(WS_REDIS, "write"), s.over(WS_REDIS, "read")), write),
        ),
        (
            "Redis write: starsessions / websession overhead (higher is better)",
            ratio(s.over(SS_REDIS, "write"), s.over(WS_REDIS, "write")),
        ),
        (
            "Flask Redis read, refresh off: websession / Flask-Session (its default, on)",
            ratio(s.over(WS_FLASK_REDIS, "read"), s.over(FLASK_SESSION, "read")),
        ),
        (
            "Flask Redis read, refresh on: websession / Flask-Session (both refresh on)",
            ratio(s.over(WS_FLASK_REDIS_REFRESH, "read"), s.over(FLASK_SESSION, "read")),
        ),
        ("MariaDB read: websession overhead / raw aiomysql PK SELECT", _mysql(s)),
    ]


def _mysql(s: _Sources) -> Ratio:
    return ratio(s.over(WS_MYSQL, "read"), s.floor(floors.MYSQL_SELECT))
