"""Store operations per Django request, counted by the real Redis and PostgreSQL
servers (as ``tests/serverapp.request_costs`` counts them for the ASGI middleware)."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import psycopg
import pytest
import redis
from django.contrib.auth.models import User
from django.test import Client, override_settings

from tests.conftest import server_url, store_url
from tests.test_postgres_store import statements
from tests.test_redis_store import counters, requests_between
from websession.integrations.django.settings import shared_store
from websession.stores.postgres import parse_url

T = TypeVar("T")

pytestmark = pytest.mark.usefixtures("auth_db")


def django_costs(
    url: str, take: Callable[[], T], between: Callable[[T, T], int | None]
) -> dict[str, int]:
    """Store operations of Django requests on the store ``url``: untouched (no cookie,
    and with one), read, write, and a login (``django.contrib.auth.login``)."""
    user = User.objects.create_user(f"c{secrets.token_hex(4)}", password="pw")
    with override_settings(WEBSESSION_STORE=url):
        try:
            # the first pass loads the store's scripts on a fresh server (EVALSHA, then
            # EVAL once): only the second pass is counted
            one_pass(user.username, take, between)
            return one_pass(user.username, take, between)
        finally:
            shared_store(url).close()


def one_pass(
    username: str, take: Callable[[], T], between: Callable[[T, T], int | None]
) -> dict[str, int]:
    """One sequence of requests from a new client, each request's store operations."""
    client = Client()
    client.get("/write", {"v": "warm"})  # connections opened outside the counts

    def measure(path: str, **params: str) -> int:
        for _ in range(3):
            before = take()
            assert client.get(path, params).status_code == 200
            count = between(before, take())
            if count is not None:
                return count
        raise AssertionError("other traffic kept changing the counters")

    costs = {"untouched, no cookie": 0}
    cookie = client.cookies.pop("sessionid")
    costs["untouched, no cookie"] = measure("/untouched")
    client.cookies["sessionid"] = cookie.value
    costs["untouched"] = measure("/untouched")
    costs["read"] = measure("/read")
    costs["write"] = measure("/write", v="2")
    costs["login"] = measure("/login", username=username, password="pw")
    return costs


EXPECTED = {"untouched, no cookie": 0, "untouched": 0, "read": 1, "write": 2, "login": 3}
"""Read: one load. Write: load + patch. Login: load + conditional replace
(``cycle_key``) + patch (the auth keys and the user binding)."""


@pytest.fixture
def nodes() -> Iterator[list[redis.Redis]]:
    client = redis.Redis.from_url(server_url("redis"))
    yield [client]
    client.close()


def test_django_requests_cost_on_redis(tmp_path: Path, nodes: list[redis.Redis]) -> None:
    costs = django_costs(
        store_url("redis", tmp_path),
        lambda: counters(nodes),
        lambda before, after: requests_between(nodes, before, after),
    )
    assert costs == EXPECTED


@pytest.fixture
def admin() -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(server_url("postgres"), autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        yield conn


def test_django_requests_cost_on_postgres(tmp_path: Path, admin: psycopg.Connection[Any]) -> None:
    url = store_url("postgres", tmp_path)
    table = parse_url(url).table
    costs = django_costs(
        url, lambda: statements(admin, table), lambda before, after: after - before
    )
    assert costs == EXPECTED
