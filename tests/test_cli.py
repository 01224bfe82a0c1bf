"""The websession command: list, revoke-user, purge, setup against a real SQLite store,
and what it says where a store lacks an ability."""

from __future__ import annotations

from pathlib import Path

import pytest

from websession import SessionConfig
from websession.auth import Auth, SessionRevoked
from websession.cli.main import main
from websession.core.lifecycle import REVOKED_KEY
from websession.stores import SQLiteStore
from websession.stores.memory import MemoryStore
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


def test_revoke_user_revokes_every_live_session(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    keys = fill(url)
    assert main(["revoke-user", "alice", "--store", url]) == 0
    assert "revoked 3 sessions" in capsys.readouterr().out
    assert main(["list", "alice", "--store", url]) == 1  # revoked ones are not live
    assert "no live sessions matched user 'alice'" in capsys.readouterr().err
    store = SQLiteStore(url.removeprefix("sqlite:///"))
    records = [store.load(key) for key in keys]
    store.close()
    assert all(r is not None and REVOKED_KEY in r.data for r in records)  # kept, marked


def test_revoke_user_means_what_the_auth_layer_means(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A replay of a session revoked from the shell is told session_revoked, as after
    the auth layer's logout_user."""
    config = SessionConfig.development()
    auth = Auth(url, "memory://", session_config=config)
    auth.register_user("alice", "correct horse battery")
    issued = auth.login_token("alice", "correct horse battery")
    user_id = issued.user.id
    auth.close()
    assert main(["revoke-user", user_id, "--store", url]) == 0
    assert "revoked 1 sessions" in capsys.readouterr().out
    auth = Auth(url, "memory://", session_config=config)
    with pytest.raises(SessionRevoked):
        auth.authenticate_session(issued.token)
    auth.close()


class PlainStore:
    """A store with the core operations only (a memory store's): no ability."""

    def __init__(self) -> None:
        inner = MemoryStore()
        self.load, self.create, self.update = inner.load, inner.create, inner.update
        self.touch, self.replace = inner.touch, inner.replace
        self.delete, self.close = inner.delete, inner.close


@pytest.fixture
def plain(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("websession.cli.main.open_cli_store", lambda url, write=False: PlainStore())


@pytest.mark.usefixtures("plain")
def test_commands_follow_the_store_abilities(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["purge", "--store", "plain://"]) == 0
    assert "expires records by itself: nothing to purge" in capsys.readouterr().out
    assert main(["setup", "--store", "plain://"]) == 0
    assert "the PlainStore is ready" in capsys.readouterr().out
    for command in ("list", "revoke-user"):
        assert main([command, "alice", "--store", "plain://"]) == 2
        assert "has no per-user index" in capsys.readouterr().err


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
    assert 'CREATE TABLE IF NOT EXISTS "my_sessions" (' in out
    assert 'CREATE INDEX IF NOT EXISTS "my_sessions_user_idx"' in out
    assert main(["setup", "--sql", "--store", "sqlite:///unused.db"]) == 2
