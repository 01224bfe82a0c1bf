# Generated from ../_async/connections.py by scripts/generate_sync.py: do not edit.
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

__all__ = ["reporting"]


def reporting(health: Health) -> type[psycopg.Connection[Any]]:
    """The pool's connection class: its ``connect`` reports to ``health``."""

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
