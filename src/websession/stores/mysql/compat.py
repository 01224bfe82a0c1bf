"""The sync primitives of the MySQL store, under the names the generated sync code
imports (``async_compat`` has the async ones)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import Any, TypeAlias, TypeVar

import pymysql
from pymysql.constants import CLIENT

from websession.stores.mysql.options import MysqlOptions

__all__ = ["Connection", "Semaphore", "Work", "acquire", "connect", "deadline", "server_version"]

T = TypeVar("T")

Connection: TypeAlias = "pymysql.Connection[Any]"
"""PyMySQL's connection."""

Semaphore = threading.Semaphore

Work = Callable[[Connection], T]
"""An operation on a borrowed connection (``AsyncWork`` on the async side)."""


def connect(options: MysqlOptions) -> Connection:
    """A new connection; rows matched (not changed) count as affected rows. Reads and
    writes time out a little after the server's own statement limit would fire."""
    socket_timeout = options.timeout * 2 + 1
    return pymysql.connect(
        client_flag=CLIENT.FOUND_ROWS,
        read_timeout=socket_timeout,
        write_timeout=socket_timeout,
        database=options.database,
        **options.connect_kwargs(),
    )


def server_version(conn: Connection) -> str:
    """The server's version string (``...-MariaDB...`` on MariaDB)."""
    info: str = conn.get_server_info()  # type: ignore[no-untyped-call]  # untyped in the stubs
    return info


def acquire(slots: threading.Semaphore, timeout: float) -> bool:
    """Take a slot within ``timeout`` seconds; False if none freed."""
    return slots.acquire(timeout=timeout)


def deadline(seconds: float) -> contextlib.nullcontext[None]:
    """No extra deadline: PyMySQL's read timeout bounds a statement."""
    return contextlib.nullcontext()
