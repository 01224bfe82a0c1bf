"""The async primitives of the MySQL store (``compat`` has the sync twins that the
generated sync code imports under the mapped names): the driver's connection and
cursor types, connecting, a bounded wait for a pool slot, and a deadline."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import aiomysql
from pymysql.constants import CLIENT

from websession.stores.mysql.options import MysqlOptions

__all__ = [
    "AsyncConnection",
    "AsyncSemaphore",
    "AsyncWork",
    "acquire_async",
    "connect_async",
    "deadline_async",
    "server_version",
]

T = TypeVar("T")

AsyncConnection = Any
"""aiomysql's connection (aiomysql ships no type hints)."""

AsyncSemaphore = asyncio.Semaphore

AsyncWork = Callable[[AsyncConnection], Awaitable[T]]
"""An operation on a borrowed connection (``Work`` on the sync side)."""


class _Cursor(aiomysql.Cursor):  # type: ignore[misc]  # aiomysql is untyped (Any)
    """aiomysql's cursor without its ``SHOW WARNINGS`` round trip after a statement
    with warnings (an INSERT IGNORE of an existing key has one, by design); PyMySQL
    does not fetch warnings either."""

    async def _show_warnings(self, conn: Any) -> None:
        return None


async def connect_async(options: MysqlOptions) -> AsyncConnection:
    """A new connection; rows matched (not changed) count as affected rows."""
    return await aiomysql.connect(
        client_flag=CLIENT.FOUND_ROWS,
        cursorclass=_Cursor,
        db=options.database,
        **options.connect_kwargs(),
    )


def server_version(conn: AsyncConnection) -> str:
    """The server's version string (``...-MariaDB...`` on MariaDB)."""
    return str(conn.get_server_info())


async def acquire_async(slots: asyncio.Semaphore, timeout: float) -> bool:
    """Take a slot within ``timeout`` seconds; False if none freed."""
    if not slots.locked():
        await slots.acquire()  # returns at once
        return True
    try:
        async with asyncio.timeout(timeout):
            await slots.acquire()
    except TimeoutError:
        return False
    return True


def deadline_async(seconds: float) -> asyncio.Timeout:
    """A deadline for one operation: aiomysql has no read timeout of its own."""
    return asyncio.timeout(seconds)
