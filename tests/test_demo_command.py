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
from typing import Any

import httpx
import pytest

from scripts.servers import free_port


def start_demo(store: str, env: dict[str, str], **popen: Any) -> tuple[str, subprocess.Popen[Any]]:
    """Start ``websession demo`` on a free port and wait until it serves /health;
    return its base URL and process (killed if it never serves)."""
    port = free_port()
    process: subprocess.Popen[Any] = subprocess.Popen(
        [sys.executable, "-m", "websession.cli.main", "demo", "--port", str(port),
         "--store", store],
        env=env, **popen,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and process.poll() is None:
        try:
            httpx.get(f"{base}/health", timeout=1)
            return base, process
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    process.wait(timeout=10)
    raise AssertionError(f"the demo on {base} did not start")


def clean_env() -> dict[str, str]:
    """The environment without any WEBSESSION_* setting."""
    return {k: v for k, v in os.environ.items() if not k.startswith("WEBSESSION_")}


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    base, process = start_demo(
        f"sqlite:///{tmp_path / 'demo.db'}",
        clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
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
    same_site = {"origin": base}  # as a browser posts a form of this site (CSRF check)
    with httpx.Client(base_url=base, follow_redirects=True, headers=same_site) as laptop:
        page = laptop.post("/register", data=form)
        assert re.search(r'id="user">alice<', page.text)
    with httpx.Client(base_url=base, follow_redirects=True, headers=same_site) as phone:
        page = phone.post("/login", data=form)
        assert re.search(r'id="user">alice<', page.text)
        devices = phone.get("/devices")
        assert devices.text.count('class="device"') == 2
    assert (tmp_path / "demo-users.db").exists()  # users live beside the sessions


def test_demo_refuses_a_taken_port_and_says_how_to_choose_another(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "websession.cli.main", "demo", "--port", str(port),
             "--store", f"sqlite:///{tmp_path / 'demo.db'}"],
            env=clean_env(), capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    assert done.returncode == 2
    assert f"127.0.0.1:{port}: the port is in use" in done.stderr
    assert f"PORT={port + 1} make demo" in done.stderr
    assert "startup complete" not in done.stderr + done.stdout
