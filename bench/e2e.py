"""End to end: each subject under uvicorn on loopback, loaded for a bounded time.

The load generator is ``wrk`` when installed (one thread, a few keep-alive
connections), else a small asyncio HTTP/1.1 client. Both stop by themselves after
``seconds``; only 127.0.0.1 is ever addressed.
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

CONNECTIONS = 16
HOST = "127.0.0.1"


@dataclass
class Rate:
    """Requests per second of one (subject, case) under uvicorn."""

    subject: str
    case: str
    rps: float
    tool: str


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


def _wrk(port: int, path: str, cookie: str, seconds: float) -> float:
    wrk = shutil.which("wrk")
    assert wrk is not None
    result = subprocess.run(
        [wrk, "-t1", f"-c{CONNECTIONS}", f"-d{seconds:g}s", "-H", f"Cookie: {cookie}",
         f"http://{HOST}:{port}{path}"],
        capture_output=True, text=True, check=True, timeout=seconds + 30,
    )  # fmt: skip
    if "Non-2xx" in result.stdout or "Socket errors" in result.stdout:
        raise RuntimeError(f"wrk saw failed requests:\n{result.stdout}")
    found = re.search(r"Requests/sec:\s+([\d.]+)", result.stdout)
    if found is None:
        raise RuntimeError(f"no Requests/sec in wrk's output:\n{result.stdout}")
    return float(found.group(1))


async def _python_load(port: int, path: str, cookie: str, seconds: float) -> float:
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
    await asyncio.gather(*(worker() for _ in range(CONNECTIONS)))
    return done / (time.monotonic() - start)


def run_subject(
    name: str, cases: dict[str, str], seconds: float, env: dict[str, str]
) -> list[Rate]:
    """Serve ``name``, check it, and load each case's path for ``seconds``."""
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
        tool = "wrk" if shutil.which("wrk") else "asyncio client"
        for case, path in cases.items():
            if tool == "wrk":
                rps = _wrk(port, path, cookie, seconds)
            else:
                rps = asyncio.run(_python_load(port, path, cookie, seconds))
            rates.append(Rate(name, case, rps, tool))
        return rates
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def run_all(
    names: list[str], cases: dict[str, str], seconds: float, sqlite_path: Path
) -> list[Rate]:
    """Every subject in turn, each case for ``seconds``."""
    env = dict(os.environ, BENCH_SQLITE_PATH=str(sqlite_path))
    rates: list[Rate] = []
    for name in names:
        rates.extend(run_subject(name, cases, seconds, env))
    return rates
