"""``websession migrate`` through the real entry point: every pair of store kinds
(memory excluded: it lives in one process), idempotent repeats, dry runs, and resuming
after Ctrl-C or a killed process with exactly the source's records at the end."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import store_url
from websession.cli import migrate
from websession.cli.main import main
from websession.core.lifecycle import REVOKED_KEY
from websession.stores import open_store
from websession.stores.base import Iterating, Store, record_key
from websession.testing import make_record, new_key
from websession.types import Record, SessionKey

KINDS = ["file", "sqlite", "redis", "redis-cluster", "postgres"]
PAIRS = [(a, b) for a in KINDS for b in KINDS]


def fresh_url(kind: str, tmp_path: Path, name: str) -> str:
    folder = tmp_path / name
    folder.mkdir(exist_ok=True)
    return store_url(kind, folder)


def fill(store: Store, sessions: int = 20) -> dict[SessionKey, Record]:
    """Sessions (some with a user, one revoked), non-session records and an expired
    session; returns what a migration must copy."""
    now = time.time()
    live: dict[SessionKey, Record] = {}
    for i in range(sessions):
        live[new_key()] = make_record({"i": i, "nested": {"a": [1, 2.5]}}, user_id=f"u{i % 3}")
    live[new_key()] = make_record({REVOKED_KEY: now, "x": 1}, user_id="u0")
    live[record_key("ratelimit", "alice")] = make_record({"failures": 2})
    live[record_key("revocation", "cookie-1")] = make_record({})
    for key, record in live.items():
        assert store.create(key, record)
    store.create(new_key(), make_record({}, now=now - 48 * 3600))  # expired: not copied
    return live


def everything(url: str) -> dict[SessionKey, Record]:
    store = open_store(url)
    try:
        assert isinstance(store, Iterating)
        found: dict[SessionKey, Record] = {}
        cursor = None
        while True:
            page, cursor = store.scan(cursor, 100)
            found.update(page)
            if cursor is None:
                return found
    finally:
        store.close()


def filled(url: str, sessions: int = 20) -> dict[SessionKey, Record]:
    store = open_store(url)
    try:
        return fill(store, sessions)
    finally:
        store.close()


@pytest.fixture(params=PAIRS, ids=[f"{a}-to-{b}" for a, b in PAIRS])
def urls(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[str, str]:
    monkeypatch.chdir(tmp_path)  # the state file of a server target goes to the cwd
    source, target = request.param
    return fresh_url(source, tmp_path, "from"), fresh_url(target, tmp_path, "to")


def test_migrate_copies_every_live_record_between_every_pair(
    urls: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    source, target = urls
    expected = filled(source)
    assert main(["migrate", "--from", source, "--to", target, "--batch", "7", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["copied"] == len(expected)
    assert report["verified"] is True
    assert report["kinds"] == {"session": 21, "ratelimit": 1, "revocation": 1}
    assert everything(target) == expected
    # a repeat duplicates nothing and overwrites nothing
    assert main(["migrate", "--from", source, "--to", target, "--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert (again["copied"], again["already_present"]) == (0, len(expected))
    assert everything(target) == expected


@pytest.fixture
def sqlite_pair(tmp_path: Path) -> tuple[str, str, dict[SessionKey, Record]]:
    source = fresh_url("sqlite", tmp_path, "from")
    target = fresh_url("sqlite", tmp_path, "to")
    return source, target, filled(source, 200)


def test_dry_run_writes_nothing(
    sqlite_pair: tuple[str, str, dict[SessionKey, Record]], capsys: pytest.CaptureFixture[str]
) -> None:
    source, target, expected = sqlite_pair
    assert main(["migrate", "--from", source, "--to", target, "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert f"would copy {len(expected)} live records" in out
    assert "1 expired records would be skipped" in out
    assert not Path(target.removeprefix("sqlite:///")).exists()


def test_an_interrupted_migration_resumes_to_exactly_the_source(
    sqlite_pair: tuple[str, str, dict[SessionKey, Record]],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    source, target, expected = sqlite_pair
    real = migrate.copy_batches
    calls = 0

    def interrupted(*args: Any, **kwargs: Any) -> migrate.MigrationState:
        nonlocal calls
        calls += 1
        if calls == 4:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(migrate, "copy_batches", interrupted)
    command = ["migrate", "--from", source, "--to", target, "--batch", "20"]
    assert main(command) == 130
    assert "run the same command again to resume" in capsys.readouterr().err
    # three batches of 20 landed; the one expired source record is skipped if it was among them
    assert len(everything(target)) in (59, 60)
    states = list(Path(target.removeprefix("sqlite:///")).parent.glob(".websession-migrate-*"))
    assert len(states) == 1
    monkeypatch.setattr(migrate, "copy_batches", real)
    assert main([*command, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["read"] == len(expected) + 1
    assert report["copied"] == len(expected)
    assert report["already_present"] == 0
    assert everything(target) == expected
    assert not states[0].exists()  # removed when complete


def test_a_killed_migration_resumes_without_duplicates_or_losses(tmp_path: Path) -> None:
    source = fresh_url("sqlite", tmp_path, "from")
    target = fresh_url("file", tmp_path, "to")
    expected = filled(source, 3000)
    state = tmp_path / "state.json"
    command = [
        sys.executable,
        "-m",
        "websession.cli.main",
        "migrate",
        "--from",
        source,
        "--to",
        target,
        "--batch",
        "25",
        "--state",
        str(state),
    ]
    env = {**os.environ, "PYTHONPATH": "src"}
    process = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, stdout=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not state.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=60)
    if state.exists():
        saved = json.loads(state.read_text())
        assert 0 < saved["read"] < len(expected) + 1
    finished = subprocess.run([*command, "--json"], env=env, capture_output=True, timeout=120)
    assert finished.returncode == 0, finished.stderr
    report = json.loads(finished.stdout)
    assert report["verified"] is True
    assert everything(target) == expected


def test_a_state_file_of_another_migration_is_refused(
    sqlite_pair: tuple[str, str, dict[SessionKey, Record]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    source, target, _ = sqlite_pair
    state = tmp_path / "state.json"
    migrate.save_state(state, migrate.MigrationState("elsewhere", "elsewhere", cursor="x"))
    assert main(["migrate", "--from", source, "--to", target, "--state", str(state)]) == 2
    assert "belongs to a migration between other stores" in capsys.readouterr().err
    assert (
        main(["migrate", "--from", source, "--to", target, "--state", str(state), "--restart"]) == 0
    )


def test_memory_is_refused_as_a_source(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = fresh_url("sqlite", tmp_path, "to")
    assert main(["migrate", "--from", "memory://", "--to", target]) == 2
    assert "lives inside one process" in capsys.readouterr().err
