"""Shared fixtures: the stores under test, by URL, sync and async.

Server stores are reached through ``WEBSESSION_TEST_REDIS_URL``,
``WEBSESSION_TEST_REDIS_CLUSTER_URL``, ``WEBSESSION_TEST_POSTGRES_URL`` and
``WEBSESSION_TEST_MYSQL_URL`` (``make test``
starts the servers and sets them). Locally a missing server skips with the reason;
under CI (``CI=true``) it fails.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from websession.integrations.failures import FAILURES

EMBEDDED_STORES = ["memory", "file", "sqlite"]
SERVER_STORES = {
    "redis": "WEBSESSION_TEST_REDIS_URL",
    "redis-cluster": "WEBSESSION_TEST_REDIS_CLUSTER_URL",
    "redis-sentinel": "WEBSESSION_TEST_REDIS_SENTINEL_URL",
    "postgres": "WEBSESSION_TEST_POSTGRES_URL",
    "mysql": "WEBSESSION_TEST_MYSQL_URL",
}
ALL_STORES = EMBEDDED_STORES + list(SERVER_STORES)


@pytest.fixture(autouse=True)
def _failure_lines_start_afresh() -> None:
    """Each test sees the first failed load or save of each kind logged (the log sends
    one line per kind per interval for the whole process)."""
    FAILURES.reset()


def server_url(kind: str) -> str:
    """The URL of a test server, or skip (fail under CI) if it is not configured."""
    variable = SERVER_STORES[kind]
    url = os.environ.get(variable)
    if not url:
        message = f"{variable} is not set: run `make test` to start a real {kind} server"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message)
        pytest.skip(message)
    return url


def store_url(kind: str, tmp_path: Path) -> str:
    """A URL for a fresh, empty store of ``kind``.

    Server stores are made fresh by a namespace of their own: a key prefix on Redis
    (``?prefix=``), a table of its own on PostgreSQL and MySQL (``?table=``).
    """
    if kind == "memory":
        return "memory://"
    if kind == "file":
        return f"file://{tmp_path / 'sessions'}"
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'sessions.db'}"
    url = server_url(kind)
    namespace = secrets.token_hex(6)
    separator = "&" if "?" in url else "?"
    if kind in ("postgres", "mysql"):
        return f"{url}{separator}table=ws_test_{namespace}"
    return f"{url}{separator}prefix=test-{namespace}"


@pytest.fixture(params=ALL_STORES)
def store_kind(request: pytest.FixtureRequest) -> str:
    """Each store kind in turn."""
    kind: str = request.param
    return kind


@pytest.fixture
def any_store_url(store_kind: str, tmp_path: Path) -> str:
    """A URL for a fresh store of every kind in turn."""
    return store_url(store_kind, tmp_path)


@pytest.fixture
async def clients() -> AsyncIterator[list[httpx.AsyncClient]]:
    """A list to put HTTP clients in; each is closed after the test."""
    made: list[httpx.AsyncClient] = []
    yield made
    for client in made:
        await client.aclose()
