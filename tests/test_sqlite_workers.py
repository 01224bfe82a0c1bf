"""Two demo workers on one SQLite file keep answering while another process holds its
write lock and writes pile up: health checks and session reads on both, promptly."""

from __future__ import annotations

import secrets
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.test_demo_command import clean_env, start_demo
from tests.test_sqlite_locking import PROMPT, write_lock_held_elsewhere

SOURCE = Path(__file__).resolve().parent.parent / "src"


def start_worker(path: Path, secret: str) -> tuple[str, subprocess.Popen[Any]]:
    """``websession demo`` on ``path``, running this checkout's code."""
    env = clean_env()
    env.update(
        WEBSESSION_SECRET=secret,
        WEBSESSION_SECURE="false",
        WEBSESSION_USERS=f"sqlite:///{path.with_name('users.db')}",
        PYTHONPATH=str(SOURCE),
    )
    store = f"sqlite:///{path}"
    return start_demo(
        store, env, cwd=path.parent, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


@pytest.fixture
def sqlite_workers(tmp_path: Path) -> Iterator[tuple[Path, list[str]]]:
    path = tmp_path / "sessions.db"
    secret = secrets.token_urlsafe(32)
    started = []
    try:
        for _ in range(2):
            started.append(start_worker(path, secret))
        yield path, [base for base, _ in started]
    finally:
        for _, process in started:
            process.terminate()
            process.wait(timeout=10)


def test_both_workers_answer_while_another_process_holds_the_write_lock(
    sqlite_workers: tuple[Path, list[str]],
) -> None:
    path, bases = sqlite_workers
    with httpx.Client(timeout=10) as client:
        client.get(f"{bases[0]}/")  # a session, shared by both workers
        for base in bases:
            assert client.get(f"{base}/login").status_code == 200  # its form token is saved
        cookies = dict(client.cookies)
    with write_lock_held_elsewhere(path) as released_at, ThreadPoolExecutor(16) as pool:

        def write(base: str) -> int:
            with httpx.Client(cookies=cookies, timeout=10) as writer:
                return writer.get(f"{base}/").status_code  # counts a visit: a write

        writes = [pool.submit(write, bases[i % 2]) for i in range(12)]
        time.sleep(0.3)  # the writes are waiting for the lock
        assert not any(w.done() for w in writes)
        with httpx.Client(cookies=cookies, timeout=10) as reader:
            for base in bases:
                started = time.monotonic()
                assert httpx.get(f"{base}/health", timeout=10).status_code == 200
                assert reader.get(f"{base}/login").status_code == 200  # a session read
                assert time.monotonic() - started < PROMPT
        assert time.monotonic() < released_at
        assert [w.result() for w in writes] == [200] * 12
