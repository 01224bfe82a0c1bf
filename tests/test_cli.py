"""The websession command: list, revoke-user, purge against a real SQLite store."""

from __future__ import annotations

from pathlib import Path

import pytest

from websession.cli.main import main
from websession.stores import SQLiteStore
from websession.testing import FakeClock, make_record, new_key
from websession.types import SessionKey


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cli.db'}"


def fill(url: str) -> list[SessionKey]:
    store = SQLiteStore(url.removeprefix("sqlite:///"))
    now = FakeClock()()
    keys = [new_key() for _ in range(3)]
    for key in keys:
        store.create(key, make_record({}, now=now, user_id="alice"))
    store.create(new_key(), make_record({}, now=now - 7200, user_id="alice"))
    store.close()
    return keys


def test_list_shows_only_live_sessions_without_full_keys(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    keys = fill(url)
    assert main(["list", "alice", "--store", url]) == 0
    out = capsys.readouterr().out
    assert "3 live sessions for 'alice'" in out
    assert all(key not in out for key in keys)


def test_revoke_user_deletes_every_session(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    fill(url)
    assert main(["revoke-user", "alice", "--store", url]) == 0
    assert "revoked 4 sessions" in capsys.readouterr().out
    main(["list", "alice", "--store", url])
    assert "0 live sessions" in capsys.readouterr().out


def test_purge_deletes_expired_sessions_in_batches(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    fill(url)
    assert main(["purge", "--store", url, "--batch", "1"]) == 0
    assert "purged 1 expired sessions" in capsys.readouterr().out


def test_bad_store_url_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list", "alice", "--store", "bogus"]) == 2
    assert "store URL looks like" in capsys.readouterr().err


def test_setup_makes_an_embedded_store_ready(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["setup", "--store", url]) == 0
    assert "the SQLiteStore is ready" in capsys.readouterr().out


def test_setup_sql_prints_the_postgres_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["setup", "--sql", "--store", "postgresql://app@db/s?table=my_sessions"]) == 0
    out = capsys.readouterr().out
    assert "CREATE TABLE IF NOT EXISTS my_sessions (" in out
    assert "CREATE INDEX IF NOT EXISTS my_sessions_user_idx" in out
    assert main(["setup", "--sql", "--store", "sqlite:///unused.db"]) == 2
