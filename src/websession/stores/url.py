"""Store URLs: the one parser for session stores and user stores.

``scheme`` and the path helpers read the URL's parts; ``query_options`` takes
websession's own query parameters out of a URL (each at most once), and the value
checkers turn them into typed values with messages that say what to write. The
PostgreSQL options (``PostgresOptions``, ``parse_postgres_url``) are shared by the
session store and the user store, so both accept the same parameters, limits and
defaults. Messages never repeat a password.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

from websession.errors import ConfigError

__all__ = [
    "MAX_TABLE_NAME",
    "MYSQL_SCHEMES",
    "POSTGRES_SCHEMES",
    "PostgresOptions",
    "check_table",
    "flag",
    "local_path",
    "parse_postgres_url",
    "positive_seconds",
    "query_options",
    "scheme",
    "sqlite_path",
    "whole_number",
]

POSTGRES_SCHEMES = frozenset({"postgresql", "postgres"})
MYSQL_SCHEMES = frozenset({"mysql", "mariadb"})

MAX_TABLE_NAME = 63 - len("_expires_idx") - 1
"""Longest table name: PostgreSQL truncates identifiers at 63 bytes, and the stores
name indexes ``<table>_expires_idx`` and ``<table>_user_idx``; one byte to spare."""

_TABLE = re.compile(rf"[A-Za-z_][A-Za-z0-9_]{{0,{MAX_TABLE_NAME - 1}}}")
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


def scheme(url: object, *, what: str, example: str) -> str:
    """The lowercased scheme of ``url`` (a ``what`` URL); ConfigError showing
    ``example`` if it has none."""
    if not isinstance(url, str) or "://" not in url:
        raise ConfigError(f"a {what} URL looks like {example}, not {url!r}")
    return url.split("://", 1)[0].lower()


def local_path(url: str) -> str:
    """The path of a ``file://`` URL (host and path joined, unquoted)."""
    parts = urlsplit(url)
    return unquote(parts.netloc + parts.path)


def sqlite_path(url: str) -> str:
    """SQLAlchemy's convention: ``sqlite:///rel.db`` is relative, ``sqlite:////abs.db``
    absolute, ``sqlite://`` an in-memory database (``:memory:``)."""
    path = unquote(urlsplit(url).path)
    return (path[1:] if path.startswith("/") else path) or ":memory:"


def query_options(
    query: str, own: Collection[str] | None, what: str
) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """Split a query string into websession's options (``own``; every name when None)
    and the rest, in order. A name given twice is a ConfigError."""
    mine: dict[str, str] = {}
    rest: list[tuple[str, str]] = []
    for name, value in parse_qsl(query, keep_blank_values=True):
        if own is not None and name not in own:
            rest.append((name, value))
        elif name in mine:
            raise ConfigError(f"the {what} URL sets {name!r} twice; keep one")
        else:
            mine[name] = value
    return mine, rest


def positive_seconds(name: str, value: str, *, example: str = "2") -> float:
    """A positive, finite number of seconds."""
    try:
        seconds = float(value)
    except ValueError:
        seconds = math.nan
    if not 0 < seconds < math.inf:
        raise ConfigError(f"{name} is a positive number of seconds, e.g. ?{name}={example}")
    return seconds


def whole_number(name: str, value: str, *, example: int) -> int:
    """A whole number of at least 1."""
    if not value.isdigit() or int(value) < 1:
        raise ConfigError(f"{name} is a whole number of at least 1, e.g. {example}")
    return int(value)


def flag(name: str, value: str) -> bool:
    """``true``/``false`` (also 1/0, yes/no, on/off)."""
    word = value.lower()
    if word not in _TRUE | _FALSE:
        raise ConfigError(f"{name} is true or false, e.g. ?{name}=false")
    return word in _TRUE


def check_table(table: str) -> str:
    """Return ``table`` if it is a usable PostgreSQL table name, else raise ConfigError."""
    if not _TABLE.fullmatch(table):
        raise ConfigError(
            f"{table!r} is not a usable table name: up to {MAX_TABLE_NAME} letters, "
            "digits and '_', not starting with a digit"
        )
    return table


# -- PostgreSQL ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PostgresOptions:
    """Settings of a PostgreSQL store (sessions or users), from ``parse_postgres_url``."""

    conninfo: str = field(repr=False)
    """The libpq URL, without websession's own parameters (may hold a password)."""
    table: str
    """The table."""
    max_connections: int = 10
    """Pool size."""
    timeout: float = 2.0
    """Seconds a statement may run (``statement_timeout``), and seconds to wait for a
    pooled connection."""
    setup: bool = True
    """Create the schema on first use; with False it must exist (``setup()``)."""

    @property
    def host(self) -> str:
        """The server's host name, for messages (never the password)."""
        return urlsplit(self.conninfo).hostname or "localhost"


_POSTGRES_OPTIONS = ("table", "max_connections", "timeout", "setup")
DEFAULT_CONNECT_TIMEOUT = "2"
"""libpq's ``connect_timeout`` (seconds) when the URL does not set one."""


def parse_postgres_url(url: str, *, table: str) -> PostgresOptions:
    """Split a ``postgresql://`` URL into the libpq URL and websession's own options:
    ``table`` (default: the ``table`` argument), ``max_connections`` (10), ``timeout``
    (2 seconds) and ``setup`` (true). libpq's own parameters pass through;
    ``connect_timeout`` defaults to 2 seconds.

    Raises ConfigError, saying what to change; the message never repeats a password.
    """
    parts = urlsplit(url)
    if parts.scheme.lower() not in POSTGRES_SCHEMES:
        raise ConfigError(
            f"a PostgreSQL store URL starts with postgresql://, not {parts.scheme}://"
        )
    # libpq reads '+' literally (only %XX is decoded): keep it a '+'
    own, kept = query_options(parts.query.replace("+", "%2B"), _POSTGRES_OPTIONS, "PostgreSQL")
    if not any(name == "connect_timeout" for name, _ in kept):
        kept.append(("connect_timeout", DEFAULT_CONNECT_TIMEOUT))
    # %20, never '+', for a space: libpq decodes percent escapes but reads '+' as is
    query = urlencode(kept, quote_via=quote, safe="")
    conninfo = urlunsplit(parts._replace(scheme="postgresql", query=query))
    timeout = 2.0
    if "timeout" in own:
        timeout = positive_seconds("timeout", own["timeout"])
        if timeout >= 86400:
            raise ConfigError("timeout is at most a day of seconds, e.g. ?timeout=2")
    return PostgresOptions(
        conninfo,
        check_table(own.get("table", table)),
        max_connections=whole_number(
            "max_connections", own.get("max_connections", "10"), example=10
        ),
        timeout=timeout,
        setup=flag("setup", own.get("setup", "true")),
    )
