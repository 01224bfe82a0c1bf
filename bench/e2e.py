"""End to end: each subject under uvicorn (one worker) on loopback, loaded for a bounded
time at each of several concurrencies (keep-alive connections: 1, 8 and 64 by default).

The load generator is ``wrk`` when installed (one thread, ``-c`` connections), else a
small asyncio HTTP/1.1 client. Both stop by themselves after ``seconds``; only
127.0.0.1 is ever addressed. The bare app runs first and again last, so the report
can show how much the machine drifted during the runs.
"""

from __future__ import annotations

import asyncio
import http.client
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from bench.apps import USER

CONNECTIONS = (1, 8, 64)
"""The default concurrency sweep (wrk ``-c``)."""
HOST = "127.0.0.1"
WARM_UP = 1.0
"""Seconds of load before each case's measured runs (pools fill, caches warm)."""


@dataclass
class Rate:
    """Requests per second of one (subject, case, connections) under uvicorn."""

    subject: str
    case: str
    rps: float
    tool: str
    connections: int = 8
    spread: float | None = None
    """wrk's standard deviation of the per-second request rate over its mean (None
    from the asyncio client)."""


def _number(text: str) -> float:
    scale = {"k": 1e3, "m": 1e6}.get(text[-1:].lower(), 1.0)
    return float(text.rstrip("kKmM")) * scale


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


def _wait(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the e2e server exited with {process.returncode}")
        try:
            with socket.create_connection((HOST, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"the e2e server did not listen on {port}")


def _wrk(port: int, path: str, cookie: str, seconds: float, connections: int) -> Rate:
    wrk = shutil.which("wrk")
    assert wrk is not None
    whole = max(1, round(seconds))  # wrk takes whole seconds only
    result = subprocess.run(
        [wrk, "-t1", f"-c{connections}", f"-d{whole}s", "-H", f"Cookie: {cookie}",
         f"http://{HOST}:{port}{path}"],
        capture_output=True, text=True, check=True, timeout=seconds + 30,
    )  # fmt: skip
    if "Non-2xx" in result.stdout or "Socket errors" in result.stdout:
        raise RuntimeError(f"wrk saw failed requests:\n{result.stdout}")
    found = re.search(r"Requests/sec:\s+([\d.]+)", result.stdout)
    if found is None:
        raise RuntimeError(f"no Requests/sec in wrk's output:\n{result.stdout}")
    spread = None
    thread = re.search(r"Req/Sec\s+([\d.]+[kKmM]?)\s+([\d.]+[kKmM]?)", result.stdout)
    if thread is not None and _number(thread.group(1)) > 0:
        spread = _number(thread.group(2)) / _number(thread.group(1))
    return Rate("", path, float(found.group(1)), "wrk", connections, spread)


async def _python_load(
    port: int, path: str, cookie: str, seconds: float, connections: int
) -> float:
    request = f"GET {path} HTTP/1.1\r\nHost: {HOST}\r\nCookie: {cookie}\r\n\r\n".encode("latin-1")
    deadline = time.monotonic() + seconds
    done = 0

    async def worker() -> None:
        nonlocal done
        reader, writer = await asyncio.open_connection(HOST, port)
        try:
            while time.monotonic() < deadline:
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                if not head.startswith(b"HTTP/1.1 200"):
                    raise RuntimeError(f"the e2e server answered {head[:40]!r}")
                length = re.search(rb"content-length:\s*(\d+)", head, re.IGNORECASE)
                await reader.readexactly(int(length.group(1)) if length else 0)
                done += 1
        finally:
            writer.close()

    start = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(connections)))
    return done / (time.monotonic() - start)


def _load(
    name: str, case: str, path: str, port: int, cookie: str, seconds: float, connections: int
) -> Rate:
    if shutil.which("wrk"):
        rate = _wrk(port, path, cookie, seconds, connections)
        rate.subject, rate.case = name, case
        return rate
    rps = asyncio.run(_python_load(port, path, cookie, seconds, connections))
    return Rate(name, case, rps, "asyncio client", connections)


def run_subject(
    name: str,
    cases: dict[str, str],
    seconds: float,
    env: dict[str, str],
    connections: tuple[int, ...] = CONNECTIONS,
    label: str | None = None,
) -> list[Rate]:
    """Serve ``name``, check it, and load each case's path for ``seconds`` at each
    number of ``connections``; the rates carry ``label`` (default ``name``)."""
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.serve", name, str(port)],
        env=env,
        cwd=Path(__file__).resolve().parent.parent,
    )
    try:
        _wait(port, process)
        cookie = "session=bench"
        if name != "bare":
            status, set_cookie, body = _get(port, "/seed", None)
            if status != 200 or set_cookie is None:
                raise RuntimeError(f"{name}: /seed answered {status} {body!r}")
            cookie = set_cookie.split(";", 1)[0]
            _, _, read = _get(port, "/read", cookie)
            if read != USER.encode():
                raise RuntimeError(f"{name}: /read answered {read!r} under uvicorn")
        rates = []
        for case, path in cases.items():  # a short warm-up at the top concurrency first
            _load(name, case, path, port, cookie, min(seconds, WARM_UP), max(connections))
            rates += [
                _load(label or name, case, path, port, cookie, seconds, count)
                for count in connections
            ]
        return rates
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


BARE_AGAIN = "bare (again, last)"
"""The label of the bare app's second run, at the end: the drift of the machine."""


def run_all(
    names: list[str],
    cases: dict[str, str],
    seconds: float,
    sqlite_path: Path,
    connections: tuple[int, ...] = CONNECTIONS,
    failures: list[str] | None = None,
) -> list[Rate]:
    """Every subject in turn (the bare app first and, as ``BARE_AGAIN``, last), each
    case at each concurrency for ``seconds``. With ``failures``, a subject that fails
    is noted there and the others still run."""
    env = dict(os.environ, BENCH_SQLITE_PATH=str(sqlite_path))
    rates: list[Rate] = []
    runs = [(name, name) for name in names]
    if "bare" in names:
        runs.append(("bare", BARE_AGAIN))
    for name, label in runs:
        try:
            rates.extend(run_subject(name, cases, seconds, env, connections, label))
        except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
            if failures is None:
                raise
            failures.append(f"end to end, {label}: {type(exc).__name__}: {exc}")
    return rates


def bare_rps(rates: list[Rate], case: str, connections: int) -> float | None:
    """The bare app's requests/s for ``case`` at ``connections``: the mean of its first
    and last runs (None if it did not run)."""
    found = [
        r.rps
        for r in rates
        if r.subject in ("bare", BARE_AGAIN) and r.case == case and r.connections == connections
    ]
    return sum(found) / len(found) if found else None


def rps(rates: list[Rate], subject: str, case: str, connections: int) -> float | None:
    """The requests/s of one (subject, case, connections), or None."""
    return next(
        (
            r.rps
            for r in rates
            if r.subject == subject and r.case == case and r.connections == connections
        ),
        None,
    )
