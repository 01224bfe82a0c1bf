"""Pool settings shared by every PostgreSQL store (sessions and users, sync and async)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlsplit

from websession.stores.url import PostgresOptions

__all__ = ["grace", "pool_settings"]


def grace(timeout: float) -> float:
    """How long after ``timeout`` the client gives up on a statement: enough for the
    server's ``statement_timeout`` (the same ``timeout``) to end it cleanly first."""
    return max(0.25, timeout / 4)


def pool_settings(options: PostgresOptions) -> dict[str, Any]:
    """Pool arguments shared by the sync and async pools."""
    statement_ms = max(1, round(options.timeout * 1000))
    return {
        "min_size": 1,
        "max_size": options.max_connections,
        "timeout": options.timeout,
        # give up a failed (re)connection quickly: the next request starts a new one,
        # so service resumes soon after the server is back
        "reconnect_timeout": options.timeout,
        # merged with the URL's own options= (a keyword argument would replace them)
        "kwargs": {"autocommit": True, "options": _options(options.conninfo, statement_ms)},
        "open": False,
        "name": f"websession-{options.table}",
    }


def _options(conninfo: str, statement_ms: int) -> str:
    """The URL's ``options=`` followed by the statement timeout (which then wins)."""
    given = [value for name, value in parse_qsl(urlsplit(conninfo).query) if name == "options"]
    return " ".join([*given, f"-c statement_timeout={statement_ms}"])
