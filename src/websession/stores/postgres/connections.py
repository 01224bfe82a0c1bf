"""Connection classes that report every connection attempt of a pool to its ``Health``.

psycopg_pool connects in the background and only counts failures; a connection class
of our own (the pool's ``connection_class``) tells the store's ``Health`` when each
attempt failed or succeeded, with no polling of the pool's statistics.
"""

from __future__ import annotations

from typing import Any, Self

import psycopg

from websession.stores.postgres.health import Health

__all__ = ["async_reporting", "reporting"]


def reporting(health: Health) -> type[psycopg.Connection[Any]]:
    """A sync connection class whose ``connect`` reports to ``health``."""

    class Reporting(psycopg.Connection[Any]):
        @classmethod
        def connect(cls, conninfo: str = "", **kwargs: Any) -> Self:
            health.connecting()
            try:
                conn = super().connect(conninfo, **kwargs)
            except psycopg.Error as exc:
                health.connect_failed(exc)
                raise
            except BaseException:  # cancelled (the pool closing): no news of the server
                health.connect_abandoned()
                raise
            health.connected()
            return conn

    return Reporting


def async_reporting(health: Health) -> type[psycopg.AsyncConnection[Any]]:
    """An async connection class whose ``connect`` reports to ``health``."""

    class AsyncReporting(psycopg.AsyncConnection[Any]):
        @classmethod
        async def connect(cls, conninfo: str = "", **kwargs: Any) -> Self:
            health.connecting()
            try:
                conn = await super().connect(conninfo, **kwargs)
            except psycopg.Error as exc:
                health.connect_failed(exc)
                raise
            except BaseException:  # cancelled (the pool closing): no news of the server
                health.connect_abandoned()
                raise
            health.connected()
            return conn

    return AsyncReporting
