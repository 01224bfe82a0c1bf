"""Connection classes that report every connection attempt of a pool to its ``Health``.

psycopg_pool connects in the background and only counts failures; a connection class
of our own (the pool's ``connection_class``) tells the store's ``Health`` when each
attempt started, failed or succeeded, with no polling of the pool's statistics.

The async source; ``_sync/connections.py`` is generated from it.
"""

from __future__ import annotations

from typing import Any, Self

import psycopg

from websession.stores.postgres.health import Health

__all__ = ["async_reporting"]


def async_reporting(health: Health) -> type[psycopg.AsyncConnection[Any]]:
    """The pool's connection class: its ``connect`` reports to ``health``."""

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
