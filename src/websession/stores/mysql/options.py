"""The options of a MySQL / MariaDB store URL.

``mysql://user:password@host:3306/database`` (``mariadb://`` too), with websession's
own query parameters, as for the PostgreSQL store: ``table`` (default
``websession_sessions``), ``max_connections`` (10), ``timeout`` (2 seconds: statement
time on the server, lock waits, and the wait for a pooled connection), ``setup``
(true: create the schema on first use) and ``connect_timeout`` (2 seconds). Any other
parameter is a ConfigError: the drivers take no free-form options.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

from websession.errors import ConfigError
from websession.stores.url import (
    MYSQL_SCHEMES,
    check_table,
    flag,
    positive_seconds,
    query_options,
    whole_number,
)

__all__ = ["DEFAULT_TABLE", "MysqlOptions", "parse_mysql_url"]

DEFAULT_TABLE = "websession_sessions"
_OWN = ("table", "max_connections", "timeout", "setup", "connect_timeout")


@dataclass(frozen=True, slots=True)
class MysqlOptions:
    """Settings of a MySQL / MariaDB store, from ``parse_mysql_url``."""

    host: str
    """The server's host name or address."""
    port: int
    """The server's TCP port."""
    user: str
    """The user to connect as."""
    password: str = field(repr=False)
    """The user's password (never shown)."""
    database: str
    """The database (schema) that holds the table."""
    table: str = DEFAULT_TABLE
    """The sessions table."""
    max_connections: int = 10
    """Pool size."""
    timeout: float = 2.0
    """Seconds a statement may run, a lock may be waited for, and a pooled connection
    may be waited for."""
    connect_timeout: float = 2.0
    """Seconds to wait for a new connection."""
    setup: bool = True
    """Create the schema on first use; with False it must exist (``setup()``)."""

    def connect_kwargs(self) -> dict[str, Any]:
        """Keyword arguments both drivers (aiomysql, PyMySQL) take for ``connect``; the
        database goes by a name of each driver's own."""
        return {
            "host": self.host,
            "port": self.port,
            "user": self.user,
            "password": self.password,
            "charset": "utf8mb4",
            "autocommit": True,
            "connect_timeout": self.connect_timeout,
        }

    def session_settings(self, server_version: str) -> list[str]:
        """The statements that set a new connection's limits: statement time (MariaDB's
        ``max_statement_time``, MySQL's ``max_execution_time``, SELECTs only there),
        lock waits, and READ COMMITTED (fewer gap locks on the conditional replace)."""
        whole = max(1, math.ceil(self.timeout))
        if "mariadb" in server_version.lower():
            statement = f"max_statement_time = {self.timeout:.3f}"
        else:
            statement = f"max_execution_time = {max(1, round(self.timeout * 1000))}"
        return [
            f"SET SESSION {statement}, innodb_lock_wait_timeout = {whole}, "
            f"lock_wait_timeout = {whole}",
            "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED",
        ]


def parse_mysql_url(url: str, *, table: str = DEFAULT_TABLE) -> MysqlOptions:
    """Read a ``mysql://`` or ``mariadb://`` URL; ConfigError saying what to change (the
    message never repeats a password)."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in MYSQL_SCHEMES:
        raise ConfigError(f"a MySQL store URL starts with mysql://, not {parts.scheme}://")
    own, rest = query_options(parts.query, _OWN, "MySQL")
    if rest:
        names = ", ".join(sorted({name for name, _ in rest}))
        raise ConfigError(f"the MySQL store URL has unknown options ({names}); see docs/mysql.md")
    database = unquote(parts.path.lstrip("/"))
    if not database or "/" in database:
        raise ConfigError("a MySQL store URL names its database: mysql://user@host/database")
    try:
        port = parts.port or 3306
    except ValueError:
        raise ConfigError("the MySQL store URL's port is a number, e.g. :3306") from None
    timeout = positive_seconds("timeout", own.get("timeout", "2"))
    if timeout >= 86400:
        raise ConfigError("timeout is at most a day of seconds, e.g. ?timeout=2")
    return MysqlOptions(
        host=parts.hostname or "localhost",
        port=port,
        user=unquote(parts.username or "root"),
        password=unquote(parts.password or ""),
        database=database,
        table=check_table(own.get("table", table)),
        max_connections=whole_number(
            "max_connections", own.get("max_connections", "10"), example=10
        ),
        timeout=timeout,
        connect_timeout=positive_seconds("connect_timeout", own.get("connect_timeout", "2")),
        setup=flag("setup", own.get("setup", "true")),
    )
