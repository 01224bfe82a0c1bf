"""End to end: every subject under uvicorn (one worker each) on loopback, at several
concurrencies (keep-alive connections: 1, 8 and 64 by default).

All servers are started first and idle while another is loaded. Each round loads every
(case, concurrency) point on every subject, the bare app included, in a shuffled order,
so the machine's drift (other work on a shared machine) falls on every subject alike;
a subject's rate is its median over the rounds, and a ratio to the bare app is also
taken round by round for its spread. The load generator is in ``bench.load``.
"""

from __future__ import annotations

import http.client
import os
import random
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench import load
from bench.apps import USER
from bench.load import HOST
from bench.measure import quartiles

CONNECTIONS = (1, 8, 64)
"""The default concurrency sweep (wrk ``-c``)."""
WARM_UP = 1.0
"""Seconds of load on each subject and case before the rounds (pools fill, caches warm)."""
BARE = "bare"


@dataclass
class Rate:
    """Requests per second of one (subject, case, connections) under uvicorn."""

    subject: str
    case: str
    rps: float
    """The median over the rounds."""
    tool: str
    connections: int = 8
    samples: list[float] = field(default_factory=list)
    """One rate per round, in round order."""
    deviation: float | None = None
    """wrk's deviation of the per-second rate over its mean, averaged over the rounds."""

    def spread(self) -> float | None:
        """The interquartile range of the rounds over their median (None: one round)."""
        if len(self.samples) < 2 or self.rps <= 0:
            return None
        low, high = quartiles(self.samples)
        return (high - low) / self.rps


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _get(port: int, path: str, cookie: str | None) -> tuple[int, str | None, bytes]:
    conn = http.client.HTTPConnection(HOST, port, timeout=10)
    try:
        conn.request("GET", path, headers={"Cookie": cookie} if cookie else {})
        response = conn.getresponse()
        return response.status, response.getheader("set-cookie"), response.read()
    finally:
        conn.close()


@dataclass
class _Server:
    """One subject served by uvicorn in a child process, with a valid cookie."""

    name: str
    process: subprocess.Popen[bytes]
    port: int
    cookie: str = "session=bench"

    @classmethod
    def start(cls, name: str, env: dict[str, str]) -> _Server:
        port = _free_port()
        process = subprocess.Popen(
            [sys.executable, "-m", "bench.serve", name, str(port)],
            env=env,
            cwd=Path(__file__).resolve().parent.parent,
        )
        return cls(name, process, port)

    def ready(self) -> None:
        """Wait until it listens; seed a session and check it reads back."""
        deadline = time.monotonic() + 30
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name}: exited with {self.process.returncode}")
            try:
                with socket.create_connection((HOST, self.port), timeout=0.5):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{self.name}: did not listen on {self.port}") from None
                time.sleep(0.05)
        if self.name == BARE:
            return
        status, set_cookie, body = _get(self.port, "/seed", None)
        if status != 200 or set_cookie is None:
            raise RuntimeError(f"{self.name}: /seed answered {status} {body!r}")
        self.cookie = set_cookie.split(";", 1)[0]
        _, _, read = _get(self.port, "/read", self.cookie)
        if read != USER.encode():
            raise RuntimeError(f"{self.name}: /read answered {read!r} under uvicorn")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _started(names: list[str], env: dict[str, str], failures: list[str]) -> list[_Server]:
    servers = [_Server.start(name, env) for name in names]
    ready = []
    for server in servers:
        try:
            server.ready()
            ready.append(server)
        except (RuntimeError, OSError) as exc:
            failures.append(f"end to end, {server.name}: {exc}")
            server.stop()
    return ready


def run_all(
    names: list[str],
    cases: dict[str, str],
    seconds: float,
    sqlite_path: Path,
    connections: tuple[int, ...] = CONNECTIONS,
    failures: list[str] | None = None,
    rounds: int = 3,
    seed: int = 13,
) -> list[Rate]:
    """Every subject at every case and concurrency for ``seconds``, ``rounds`` times in
    a shuffled order. A subject that fails is noted in ``failures`` (raised without it)
    and left out of the later loads."""
    env = dict(os.environ, BENCH_SQLITE_PATH=str(sqlite_path))
    noted: list[str] = [] if failures is None else failures
    samples: dict[tuple[str, str, int], list[load.Load]] = {}
    shuffler = random.Random(seed)
    servers = _started(names, env, noted)
    try:
        live = list(servers)
        for server in servers:
            for path in cases.values():
                load.run(server.port, path, server.cookie, WARM_UP, max(connections))
        for _ in range(rounds):
            for case, path in cases.items():
                for count in connections:
                    order = live[:]
                    shuffler.shuffle(order)
                    for server in order:
                        try:
                            found = load.run(server.port, path, server.cookie, seconds, count)
                        except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
                            noted.append(f"end to end, {server.name}, {case}: {exc}")
                            live.remove(server)
                            continue
                        samples.setdefault((server.name, case, count), []).append(found)
    finally:
        for server in servers:
            server.stop()
    if failures is None and noted:
        raise RuntimeError("; ".join(noted))
    return [  # in the order of names, the cases and the connections
        _rate((name, case, count), samples[(name, case, count)])
        for name in names
        for case in cases
        for count in connections
        if (name, case, count) in samples
    ]


def _rate(key: tuple[str, str, int], found: list[load.Load]) -> Rate:
    name, case, count = key
    deviations = [f.deviation for f in found if f.deviation is not None]
    return Rate(
        name,
        case,
        statistics.median(f.rps for f in found),
        found[0].tool,
        count,
        [f.rps for f in found],
        statistics.fmean(deviations) if deviations else None,
    )


def find(rates: list[Rate], subject: str, case: str, connections: int) -> Rate | None:
    """The rate of one (subject, case, connections), or None."""
    return next(
        (
            r
            for r in rates
            if r.subject == subject and r.case == case and r.connections == connections
        ),
        None,
    )


def rps(rates: list[Rate], subject: str, case: str, connections: int) -> float | None:
    """The median requests/s of one (subject, case, connections), or None."""
    found = find(rates, subject, case, connections)
    return None if found is None else found.rps


def bare_rps(rates: list[Rate], case: str, connections: int) -> float | None:
    """The bare app's median requests/s for ``case`` at ``connections``."""
    return rps(rates, BARE, case, connections)


def round_ratios(rates: list[Rate], subject: str, case: str, connections: int) -> list[float]:
    """``subject`` over the bare app, round by round."""
    ours, bare = find(rates, subject, case, connections), find(rates, BARE, case, connections)
    if ours is None or bare is None or len(ours.samples) != len(bare.samples):
        return []
    return [a / b for a, b in zip(ours.samples, bare.samples, strict=True) if b > 0]
