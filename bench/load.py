"""Load generators for the end-to-end runs: ``wrk`` when installed (one thread, ``-c``
connections), else a small asyncio HTTP/1.1 client. Both stop by themselves after the
given time; only 127.0.0.1 is ever addressed."""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
import time
from dataclasses import dataclass

HOST = "127.0.0.1"


@dataclass
class Load:
    """What one load run measured."""

    rps: float
    tool: str
    deviation: float | None = None
    """wrk's standard deviation of the per-second request rate over its mean (None from
    the asyncio client)."""


def number(text: str) -> float:
    """A wrk number such as ``8.95k`` or ``345.12``."""
    scale = {"k": 1e3, "m": 1e6}.get(text[-1:].lower(), 1.0)
    return float(text.rstrip("kKmM")) * scale


def tool() -> str:
    """The load generator this machine has."""
    return "wrk" if shutil.which("wrk") else "asyncio client"


def _wrk(port: int, path: str, cookie: str, seconds: float, connections: int) -> Load:
    wrk = shutil.which("wrk")
    if wrk is None:
        raise RuntimeError("wrk is not installed")
    whole = max(1, round(seconds))  # wrk takes whole seconds only
    result = subprocess.run(
        [wrk, "-t1", f"-c{connections}", f"-d{whole}s", "-H", f"Cookie: {cookie}",
         f"http://{HOST}:{port}{path}"],
        capture_output=True, text=True, check=True, timeout=whole + 30,
    )  # fmt: skip
    if "Non-2xx" in result.stdout or "Socket errors" in result.stdout:
        raise RuntimeError(f"wrk saw failed requests:\n{result.stdout}")
    found = re.search(r"Requests/sec:\s+([\d.]+)", result.stdout)
    if found is None:
        raise RuntimeError(f"no Requests/sec in wrk's output:\n{result.stdout}")
    deviation = None
    thread = re.search(r"Req/Sec\s+([\d.]+[kKmM]?)\s+([\d.]+[kKmM]?)", result.stdout)
    if thread is not None and number(thread.group(1)) > 0:
        deviation = number(thread.group(2)) / number(thread.group(1))
    return Load(float(found.group(1)), "wrk", deviation)


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


def run(port: int, path: str, cookie: str, seconds: float, connections: int) -> Load:
    """Load ``path`` on ``port`` with ``connections`` keep-alive connections for
    ``seconds``."""
    if shutil.which("wrk"):
        return _wrk(port, path, cookie, seconds, connections)
    rps = asyncio.run(_python_load(port, path, cookie, seconds, connections))
    return Load(rps, "asyncio client")
