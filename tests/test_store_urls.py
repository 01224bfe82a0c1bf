"""One URL parser for session stores and user stores: the PostgreSQL session store and
user store accept the same options, limits and defaults, and say the same things."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from websession.auth.userstores import open_user_store
from websession.auth.userstores.postgres import parse_url as parse_users_url
from websession.errors import ConfigError
from websession.stores import open_store
from websession.stores.postgres import parse_url as parse_sessions_url
from websession.stores.postgres import schema_statements
from websession.stores.url import MAX_TABLE_NAME, PostgresOptions, parse_postgres_url, sqlite_path

Parser = Callable[[str], PostgresOptions]
PARSERS = [parse_sessions_url, parse_users_url]


def test_the_default_tables_differ_and_nothing_else() -> None:
    sessions = parse_sessions_url("postgresql://app@db/main")
    users = parse_users_url("postgresql://app@db/main")
    assert (sessions.table, users.table) == ("websession_sessions", "websession_users")
    assert sessions.conninfo == users.conninfo == "postgresql://app@db/main?connect_timeout=2"
    for options in (sessions, users):
        assert (options.max_connections, options.timeout, options.setup) == (10, 2.0, True)


@pytest.mark.parametrize("parse", PARSERS)
def test_table_names_fit_postgres_identifiers_with_index_suffixes(parse: Parser) -> None:
    longest = "t" * MAX_TABLE_NAME
    assert parse(f"postgresql://h/db?table={longest}").table == longest
    for statement in schema_statements(longest):
        for word in statement.replace("(", " ").split():
            assert len(word.strip('"').encode()) <= 63  # identifiers are quoted
    with pytest.raises(ConfigError, match=f"up to {MAX_TABLE_NAME} letters"):
        parse(f"postgresql://h/db?table={longest}t")


@pytest.mark.parametrize("parse", PARSERS)
@pytest.mark.parametrize(
    ("query", "says"),
    [
        ("table=bad-name", "table name"),
        ("table=1st", "table name"),
        ("max_connections=0", "max_connections is a whole number"),
        ("timeout=x", "timeout is a positive number"),
        ("timeout=-1", "timeout is a positive number"),
        ("timeout=90000", "at most a day"),
        ("setup=maybe", "setup is true or false"),
        ("timeout=1&timeout=2", "twice"),
    ],
)
def test_both_stores_reject_bad_options_alike(parse: Parser, query: str, says: str) -> None:
    with pytest.raises(ConfigError, match=says):
        parse(f"postgresql://app:pw-secret@h/db?{query}")


@pytest.mark.parametrize("parse", PARSERS)
def test_options_come_out_and_libpq_options_stay(parse: Parser) -> None:
    options = parse(
        "postgres://app:pw@db:5433/s?table=t1&max_connections=3&timeout=0.5&setup=off"
        "&sslmode=require&connect_timeout=7"
    )
    assert (options.table, options.max_connections, options.timeout) == ("t1", 3, 0.5)
    assert options.setup is False
    assert options.conninfo == "postgresql://app:pw@db:5433/s?sslmode=require&connect_timeout=7"
    assert "pw" not in repr(options)


def test_a_config_error_never_repeats_the_password() -> None:
    for open_ in (open_store, open_user_store):
        with pytest.raises(ConfigError) as caught:
            open_("postgresql://app:hunter2-secret@db/s?max_connections=none")
        assert "hunter2-secret" not in str(caught.value)


def test_the_parser_wants_a_postgres_url() -> None:
    with pytest.raises(ConfigError, match="postgresql://"):
        parse_postgres_url("mysql://h/db", table="t")


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("sqlite:///rel.db", "rel.db"),
        ("sqlite:////abs/s.db", "/abs/s.db"),
        ("sqlite://", ":memory:"),
        ("sqlite:///with%20space.db", "with space.db"),
    ],
)
def test_sqlite_paths_read_the_same_for_sessions_and_users(url: str, path: str) -> None:
    assert sqlite_path(url) == path


@pytest.mark.parametrize("open_", [open_store, open_user_store])
def test_a_url_without_a_scheme_says_what_one_looks_like(open_: Callable[[str], object]) -> None:
    with pytest.raises(ConfigError, match="URL looks like 'sqlite:///"):
        open_("sessions.db")
