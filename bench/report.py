"""The markdown report: machine, versions, tables of times, ratios and targets."""

from __future__ import annotations

import datetime
import importlib.metadata
import os
import platform
import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field

from bench import e2e
from bench.count import OpCount
from bench.e2e import Rate
from bench.measure import CASE_TITLES, CASES, Timings, quartiles
from bench.memory import MemoryUse
from bench.profiles import Profile
from bench.targets import Ratio, Target

PACKAGES = (
    "websession", "starlette", "starsessions", "flask", "flask-session", "redis", "hiredis",
    "psycopg", "psycopg-binary", "psycopg-pool", "orjson", "uvicorn", "django",
    "aiomysql",
)  # fmt: skip


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
    context: list[tuple[str, Ratio]] = field(default_factory=list)
    connections: tuple[int, ...] = ()
    e2e_seconds: float = 0.0
    command: str = ""


def cpu() -> str:
    """The CPU model."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def versions() -> str:
    """The versions of the packages that matter, as one line."""
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


def _noise(results: Results) -> str:
    """One line on how noisy the repetitions were."""
    t = results.timings
    bare = []
    for kind, name in results.bare.items():
        for case in CASES:
            values = t.per_request.get((name, case))
            if values:
                low, high = quartiles(values)
                bare.append((f"{kind} {case}", (high - low) / statistics.median(values)))
    relative = []
    for name in [*results.asgi, *results.wsgi, *results.django]:
        for case in CASES:
            if (name, case) in t.overhead:
                middle = t.median_overhead(name, case)
                if middle > 1e-6:
                    relative.append(t.spread(name, case) / middle)
    worst = max(bare, key=lambda item: item[1], default=("", 0.0))
    text = (
        f"noise: the bare apps' time per request varied by up to {worst[1] * 100:.0f}% "
        f"(interquartile range / median, {worst[0]}) across repetitions"
    )
    if relative:
        text += (
            f"; websession's overheads by a median {statistics.median(relative) * 100:.0f}% "
            f"(worst {max(relative) * 100:.0f}%)"
        )
    return text + (
        ". Each table gives the overhead's interquartile range (IQR); each in-process "
        "target gives the p25 to p75 of its ratio taken repetition by repetition."
    )


def _header(results: Results) -> list[str]:
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    out = [
        f"# websession benchmarks, {now}",
        "",
        f"- machine: {platform.system()} {platform.machine()}, {cpu()}, {os.cpu_count()} cores",
        f"- Python {platform.python_version()} ({platform.python_implementation()})",
        f"- packages: {versions()}",
        f"- servers: {', '.join(f'{k} {v}' for k, v in results.servers.items()) or 'none'}",
        f"- method: apps called in-process (ASGI directly, Flask and Django through WSGI "
        f"environ); median of {results.reps} interleaved repetitions, each timing every "
        f"subject on every case in a shuffled order; overhead = time minus the bare app's "
        f"time in the same repetition; ratios are overhead / the peer's overhead (lower is "
        f"better). Whole run: {results.seconds:.0f} s"
        + (f" (`{results.command}`)." if results.command else "."),
        f"- {_noise(results)}",
    ]
    return out + [f"- skipped: {skipped}" for skipped in results.skipped]


def _case_tables(results: Results) -> list[str]:
    t = results.timings
    out: list[str] = []
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
            header = ["subject", "µs/request", "overhead µs", "IQR µs", "store ops/request"]
            header += [f"vs {peer}" for peer in peers]
            rows = [[bare, _us(t.median(bare, case)), "0", "", "0"] + [""] * len(peers)]
            for name in [*names, *peers]:
                overhead = t.median_overhead(name, case)
                op = results.ops.get((name, case))
                row = [
                    name,
                    _us(t.median(name, case)),
                    _us(overhead),
                    _us(t.spread(name, case)),
                    "" if op is None else f"{op.per_request:g} {op.unit}".strip(),
                ]
                row += [_ratio(overhead, t.median_overhead(peer, case)) for peer in peers]
                rows.append(row)
            out += _table(header, rows)
    return out


def _targets(results: Results) -> list[str]:
    out = ["", "## Targets of issue 13 (goals, reported not asserted)", ""]
    out += _table(
        ["target", "measured", "spread", "goal", "verdict"],
        [
            [
                tg.name + (f" ({tg.note})" if tg.note else ""),
                "" if tg.value is None else f"{tg.value:.2f}",
                tg.spread,
                tg.goal_text(),
                tg.verdict_text(),
            ]
            for tg in results.targets
        ],
    )
    if results.context:
        out += ["", "## Other ratios (context, no goal)", ""]
        out += _table(
            ["ratio", "measured", "spread"],
            [
                [name, "" if found.value is None else f"{found.value:.2f}", found.spread]
                for name, found in results.context
            ],
        )
    return out


def _e2e(results: Results) -> list[str]:
    rates = results.rates
    counts = sorted({r.connections for r in rates})
    rounds = max(len(r.samples) for r in rates)
    out = [
        "",
        f"## End to end under uvicorn ({rates[0].tool}, loopback, one worker, "
        f"{results.e2e_seconds:g} s per point, {rounds} interleaved rounds)",
        "",
        "Median requests/s at each number of connections; ± is the interquartile range "
        "of the rounds over the median; in brackets, the ratio to the bare app.",
        "",
    ]
    rows = []
    for subject in dict.fromkeys(r.subject for r in rates):
        for case in dict.fromkeys(r.case for r in rates):
            row = [subject, case]
            for count in counts:
                found = e2e.find(rates, subject, case, count)
                bare = e2e.bare_rps(rates, case, count)
                if found is None:
                    row.append("")
                    continue
                cell = f"{found.rps:.0f}"
                spread = found.spread()
                if spread is not None:
                    cell += f" ±{spread * 100:.0f}%"
                if bare:
                    cell += f" ({found.rps / bare:.2f})"
                row.append(cell)
            rows.append(row)
    return out + _table(["subject", "case", *(f"c={count}" for count in counts)], rows)


def render(results: Results) -> str:
    """The whole report as markdown."""
    out = _header(results) + _case_tables(results)
    out += ["", "## Store operations per request (counted from the servers)", ""]
    rows = []
    for name in [
        *results.asgi,
        *results.wsgi,
        *results.wsgi_peers,
        *results.django,
        *results.django_peers,
    ]:
        ops = [results.ops.get((name, case)) for case in CASES]
        rows.append([name, *(op.detail if op else "" for op in ops)])
    out += _table(["subject", *(CASE_TITLES[c] for c in CASES)], rows)
    out += ["", "## Raw floors (same run)", ""]
    floor_rows = [
        [k, _us(v), _us(_floor_iqr(results.timings, k))] for k, v in results.floors.items()
    ]
    out += _table(["operation", "µs/call", "IQR µs"], floor_rows)
    out += _targets(results)
    if results.rates:
        out += _e2e(results)
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


def _floor_iqr(timings: Timings, name: str) -> float:
    values = timings.per_request.get((name, "floor"))
    if not values:
        return 0.0
    low, high = quartiles(values)
    return high - low
