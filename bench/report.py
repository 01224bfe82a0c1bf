"""The markdown report: machine, versions, tables of times, ratios and targets."""

from __future__ import annotations

import datetime
import importlib.metadata
import os
import platform
from collections.abc import Iterable
from dataclasses import dataclass, field

from bench.count import OpCount
from bench.e2e import Rate
from bench.measure import CASE_TITLES, CASES, Timings
from bench.memory import MemoryUse
from bench.profiles import Profile

PACKAGES = (
    "websession", "starlette", "starsessions", "flask", "flask-session", "redis", "hiredis",
    "psycopg", "psycopg-binary", "psycopg-pool", "orjson", "uvicorn",
)  # fmt: skip


@dataclass
class Target:
    """One goal, as a ratio: met when ``value`` is on the right side of ``goal``."""

    name: str
    value: float | None
    goal: float
    at_most: bool = True
    note: str = ""

    def verdict(self) -> str:
        """met / missed / not measured."""
        if self.value is None:
            return "not measured"
        met = self.value <= self.goal if self.at_most else self.value >= self.goal
        return "met" if met else "**missed**"


@dataclass
class Results:
    """Everything one run measured."""

    timings: Timings
    asgi: list[str]
    wsgi: list[str]
    asgi_peers: list[str]
    wsgi_peers: list[str]
    bare: dict[str, str]
    ops: dict[tuple[str, str], OpCount]
    floors: dict[str, float]
    targets: list[Target]
    reps: int
    django: list[str] = field(default_factory=list)
    django_peers: list[str] = field(default_factory=list)
    rates: list[Rate] = field(default_factory=list)
    memory: MemoryUse | None = None
    profiles: list[tuple[Profile, str]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    servers: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0


def _cpu() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _versions() -> str:
    found = []
    for name in PACKAGES:
        try:
            found.append(f"{name} {importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            continue
    return ", ".join(found)


def _us(seconds: float) -> str:
    return f"{seconds * 1e6:.1f}"


def _ratio(value: float, base: float) -> str:
    if base <= 0.5e-6:
        return "n/a"
    return f"{value / base:.2f}"


def _table(header: Iterable[str], rows: Iterable[Iterable[str]]) -> list[str]:
    header = list(header)
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def render(results: Results) -> str:
    """The whole report as markdown."""
    t = results.timings
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    out = [
        f"# websession benchmarks, {now}",
        "",
        f"- machine: {platform.system()} {platform.machine()}, {_cpu()}, {os.cpu_count()} cores",
        f"- Python {platform.python_version()} ({platform.python_implementation()})",
        f"- packages: {_versions()}",
        f"- servers: {', '.join(f'{k} {v}' for k, v in results.servers.items()) or 'none'}",
        f"- method: apps called in-process (ASGI directly, Flask through WSGI environ); "
        f"median of {results.reps} interleaved repetitions, each timing every subject on "
        f"every case in a shuffled order; overhead = time minus the bare app's time in the "
        f"same repetition; ratios are overhead / the peer's overhead (lower is better). "
        f"Whole run: {results.seconds:.0f} s.",
    ]
    for skipped in results.skipped:
        out.append(f"- skipped: {skipped}")
    for title, names, peers, kind in (
        ("ASGI", results.asgi, results.asgi_peers, "asgi"),
        ("Flask (WSGI)", results.wsgi, results.wsgi_peers, "wsgi"),
        ("Django (WSGI)", results.django, results.django_peers, "django"),
    ):
        if kind not in results.bare:
            continue
        bare = results.bare[kind]
        for case in CASES:
            out += ["", f"## {title}: {CASE_TITLES[case]}", ""]
            header = ["subject", "µs/request", "overhead µs", "store ops/request"]
            header += [f"vs {peer}" for peer in peers]
            rows = [[bare, _us(t.median(bare, case)), "0", "0"] + [""] * len(peers)]
            for name in [*names, *peers]:
                overhead = t.median_overhead(name, case)
                op = results.ops.get((name, case))
                row = [
                    name,
                    _us(t.median(name, case)),
                    _us(overhead),
                    "" if op is None else f"{op.per_request:g} {op.unit}".strip(),
                ]
                row += [_ratio(overhead, t.median_overhead(peer, case)) for peer in peers]
                rows.append(row)
            out += _table(header, rows)
    out += ["", "## Store operations per request (counted from the servers)", ""]
    rows = []
    for name in [*results.asgi, *results.wsgi, *results.django, *results.django_peers]:
        ops = [results.ops.get((name, case)) for case in CASES]
        rows.append([name, *(op.detail if op else "" for op in ops)])
    out += _table(["subject", *(CASE_TITLES[c] for c in CASES)], rows)
    out += ["", "## Raw floors (same run)", ""]
    out += _table(["operation", "µs/call"], [[k, _us(v)] for k, v in results.floors.items()])
    out += ["", "## Targets (goals, reported not asserted)", ""]
    out += _table(
        ["target", "measured", "goal", "verdict"],
        [
            [
                tg.name + (f" ({tg.note})" if tg.note else ""),
                "" if tg.value is None else f"{tg.value:.2f}",
                ("≤ " if tg.at_most else "≥ ") + f"{tg.goal:g}",
                tg.verdict(),
            ]
            for tg in results.targets
        ],
    )
    if results.rates:
        tool = results.rates[0].tool
        out += ["", f"## End to end under uvicorn ({tool}, loopback)", ""]
        bare_rps = {r.case: r.rps for r in results.rates if r.subject == "bare"}
        out += _table(
            ["subject", "case", "requests/s", "vs bare"],
            [
                [r.subject, r.case, f"{r.rps:.0f}", f"{r.rps / bare_rps[r.case]:.2f}"]
                for r in results.rates
            ],
        )
    if results.memory is not None:
        memory = results.memory
        out += [
            "",
            "## Memory store",
            "",
            f"{memory.sessions} small sessions (two keys) hold {memory.bytes_total / 2**20:.1f} "
            f"MiB traced by tracemalloc: {memory.per_session:.0f} bytes per session, so a "
            f"million sessions take about {memory.extrapolate(1_000_000) / 2**20:.0f} MiB.",
        ]
    if results.profiles:
        out += ["", "## Profiles (cProfile; times are inflated by the profiler)", ""]
        for profile, path in results.profiles:
            label, micros = profile.slowest()
            out += [
                f"- **{profile.name}** ({path}): {profile.total_us:.0f} µs/request profiled; "
                f"slowest step: {label} ({micros:.1f} µs); "
                + "; ".join(f"{lbl} {us:.1f}" for lbl, us in profile.steps)
            ]
    return "\n".join(out) + "\n"
