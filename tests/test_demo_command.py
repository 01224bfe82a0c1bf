"""`websession demo` starts a real server on a fresh configuration (no secret set)."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("WEBSESSION_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "websession.cli.main", "demo", "--port", str(port),
         "--store", f"sqlite:///{tmp_path / 'demo.db'}"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{base}/health", timeout=1)
            break
        except httpx.TransportError:
            time.sleep(0.1)
    yield base, process
    process.terminate()
    process.wait(timeout=10)
    if process.stdout is not None:
        process.stdout.close()


def test_demo_serves_a_counter_that_survives_requests(
    demo: tuple[str, subprocess.Popen[str]],
) -> None:
    base, _ = demo
    with httpx.Client(base_url=base) as client:
        first = client.get("/")
        assert first.status_code == 200
        assert re.search(r'id="visits">1<', first.text)
        assert "session" in client.cookies
        second = client.get("/")
        assert re.search(r'id="visits">2<', second.text)


def test_demo_says_it_generated_a_development_secret(
    demo: tuple[str, subprocess.Popen[str]],
) -> None:
    base, process = demo
    httpx.get(f"{base}/health")
    process.terminate()
    output, _ = process.communicate(timeout=10)
    assert "generated a development secret" in output


def test_demo_accounts_work_with_no_configuration(
    demo: tuple[str, subprocess.Popen[str]], tmp_path: Path
) -> None:
    base, _ = demo
    form = {"username": "alice", "password": "correct horse battery"}
    with httpx.Client(base_url=base, follow_redirects=True) as laptop:
        page = laptop.post("/register", data=form)
        assert re.search(r'id="user">alice<', page.text)
    with httpx.Client(base_url=base, follow_redirects=True) as phone:
        page = phone.post("/login", data=form)
        assert re.search(r'id="user">alice<', page.text)
        devices = phone.get("/devices")
        assert devices.text.count('class="device"') == 2
    assert (tmp_path / "demo-users.db").exists()  # users live beside the sessions
