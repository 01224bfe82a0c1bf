"""The operator's commands through the real entry point, against SQLite and real
Redis and PostgreSQL: stats, list, show, revoke (by user name or session), purge,
check, rotate-secret, their ``--json`` output, and the fixes a new user asked for
(names not ids, nothing-matched exits 1, no store created by reading, help text)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.conftest import server_url, store_url
from websession import SessionConfig
from websession.auth import Auth, SessionRevoked
from websession.cli.main import main
from websession.core.lifecycle import REVOKED_KEY
from websession.stores import open_store
from websession.stores.base import record_key
from websession.testing import make_record, new_key

PASSWORD = "correct horse battery"
KINDS = ["sqlite", "redis", "postgres"]
CONFIG = SessionConfig.development()  # one secret for every Auth of a test


@pytest.fixture(params=KINDS)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    kind: str = request.param
    made = store_url(kind, tmp_path)
    store = open_store(made)
    store.create(new_key(), make_record({}))  # exists (a server store makes its table)
    store.close()
    return made


@pytest.fixture
def users(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'users.db'}"


def login(url: str, users: str, name: str = "bob") -> tuple[str, Auth]:
    auth = Auth(url, users, session_config=CONFIG)
    if auth.users.find(name) is None:
        auth.register_user(name, PASSWORD)
    issued = auth.login_token(name, PASSWORD, ip="203.0.113.9", user_agent="Firefox/140")
    return issued.token, auth


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_revoke_takes_the_user_name_with_a_user_store(
    url: str, users: str, capsys: pytest.CaptureFixture[str]
) -> None:
    token, auth = login(url, users)
    status, out, _ = run(capsys, "revoke", "bob", "--store", url, "--users", users)
    assert (status, out.strip()) == (0, "revoked 1 sessions of user 'bob'")
    with pytest.raises(SessionRevoked):
        auth.authenticate_session(token)
    auth.close()


def test_users_come_from_websession_users(
    url: str, users: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    login(url, users)[1].close()
    monkeypatch.setenv("WEBSESSION_USERS", users)
    status, out, _ = run(capsys, "list", "bob", "--store", url, "--json")
    document = json.loads(out)
    assert status == 0
    assert [s["ip"] for s in document["sessions"]] == ["203.0.113.9"]
    assert document["sessions"][0]["user"] == "bob"


def test_nothing_matched_says_so_and_exits_1(
    url: str, users: str, capsys: pytest.CaptureFixture[str]
) -> None:
    login(url, users)[1].close()
    status, _, err = run(capsys, "revoke", "bob", "--store", url)  # no user store: an id
    assert status == 1
    assert err.startswith("websession: no live sessions matched user 'bob': nothing revoked")
    assert "WEBSESSION_USERS" in err  # says how to use names
    status, _, err = run(capsys, "revoke", "carol", "--store", url, "--users", users)
    assert status == 2
    assert "no user named 'carol'" in err


def test_show_prints_metadata_never_values_unless_asked(
    url: str, users: str, capsys: pytest.CaptureFixture[str]
) -> None:
    token, auth = login(url, users)
    key = auth.authenticate_session(token).key
    auth.close()
    status, out, _ = run(capsys, "show", key[:10], "--store", url, "--users", users)
    assert status == 0
    assert "Firefox/140" in out
    assert "bob" in out
    assert key not in out
    assert token not in out
    store = open_store(url)
    store.create(k := new_key(), make_record({"cart": "secret-value"}))
    store.close()
    status, out, _ = run(capsys, "show", k[:12], "--store", url, "--json")
    assert json.loads(out)["keys"] == ["cart"]
    assert "secret-value" not in out
    status, out, _ = run(capsys, "show", k[:12], "--store", url, "--json", "--data")
    assert json.loads(out)["data"] == {"cart": "secret-value"}


def test_revoke_one_session_by_key_prefix(
    url: str, users: str, capsys: pytest.CaptureFixture[str]
) -> None:
    token, auth = login(url, users)
    other, _ = login(url, users)
    prefix = auth.authenticate_session(token).key[:16]
    status, out, _ = run(capsys, "revoke", "--session", prefix, "--store", url)
    assert (status, out.strip()) == (0, f"revoked session {prefix[:12]}")
    with pytest.raises(SessionRevoked):
        auth.authenticate_session(token)
    assert auth.authenticate_session(other).user.username == "bob"
    status, _, err = run(capsys, "revoke", "--session", prefix, "--store", url)
    assert (status, "is not live (revoked)" in err) == (1, True)
    auth.close()


def test_stats_counts_every_kind_of_record(
    url: str, users: str, capsys: pytest.CaptureFixture[str]
) -> None:
    login(url, users)[1].close()
    login(url, users)[1].close()
    now = time.time()
    store = open_store(url)
    store.create(new_key(), make_record({REVOKED_KEY: now}, user_id="x"))
    store.create(new_key(), make_record({}, now=now - 48 * 3600))
    store.create(record_key("ratelimit", "bob"), make_record({"failures": 1}))
    store.close()
    status, out, _ = run(capsys, "stats", "--store", url, "--users", users, "--json")
    stats = json.loads(out)
    assert status == 0
    assert (stats["live"], stats["authenticated"], stats["anonymous"]) == (3, 2, 1)
    assert stats["revoked"] == 1
    assert stats["top_users"][0]["user"] == "bob"
    assert stats["top_users"][0]["sessions"] == 2
    assert stats["other_records"]["ratelimit"] >= 1  # logins count attempts too
    assert stats["expired_not_purged"] in (0, 1)  # Redis expires it on its own
    status, out, _ = run(capsys, "stats", "--store", url)
    assert "authenticated:" in out


def test_check_reports_the_server(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "check", "--store", url, "--json")
    report = json.loads(out)
    assert (status, report["ok"]) == (0, True)
    assert report["median_ms"] >= 0
    if not url.startswith("sqlite"):
        assert report["server"].split()[0] in ("Redis", "Valkey", "PostgreSQL")


def test_purge_reports_what_it_deleted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = store_url("sqlite", tmp_path)
    store = open_store(url)
    for _ in range(5):
        store.create(new_key(), make_record({}, now=time.time() - 48 * 3600))
    store.close()
    status, out, _ = run(capsys, "purge", "--store", url, "--batch", "2", "--json")
    assert (status, json.loads(out)["purged"]) == (0, 5)


def test_reading_a_missing_store_creates_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'typo' / 'sessions.db'}"
    for argv in (["list", "bob"], ["stats"], ["revoke", "bob"], ["check"], ["purge"]):
        status, _, err = run(capsys, *argv, "--store", url)
        assert status == 2
        assert "no SQLite store at" in err
    assert not (tmp_path / "typo").exists()
    status, _, err = run(capsys, "stats", "--store", f"file://{tmp_path / 'nothing'}")
    assert (status, "no session directory" in err) == (2, True)


def test_memory_store_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    for url in ("memory://", "sqlite://"):
        status, _, err = run(capsys, "stats", "--store", url)
        assert (status, "lives inside one process" in err) == (2, True)


def test_postgres_without_its_table_names_websession_setup(
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = f"{server_url('postgres')}?table=ws_missing_{new_key()[:8]}"
    status, _, err = run(capsys, "list", "bob", "--store", url)
    assert status == 2
    assert "table does not exist" in err
    assert "websession setup" in err
    status, _, err = run(capsys, "check", "--store", url + "&setup=false")
    assert (status, "websession setup" in err) == (2, True)


def test_help_is_plain_text_and_names_the_environment(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert "``" not in out
    for name in ("WEBSESSION_STORE", "WEBSESSION_USERS", "WEBSESSION_SECRET", "migrate"):
        assert name in out
    for command in ("stats", "list", "show", "revoke", "purge", "migrate", "check", "setup"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        text = capsys.readouterr().out
        assert "``" not in text
        assert "--store" in text or "--from" in text


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out.startswith("websession ")


def test_rotate_secret_prints_the_change(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "rotate-secret")
    assert status == 0
    assert "WEBSESSION_PREVIOUS_SECRETS" in out
    assert "nobody is logged out" in out
    status, out, _ = run(capsys, "rotate-secret", "--json")
    assert len(json.loads(out)["new_secret"]) >= 32
