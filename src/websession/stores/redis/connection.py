"""The sync driver's own connections to one standalone Redis server: blocking sockets
whose replies hiredis parses, and the pool that hands them out (at most
``max_connections``; a caller waits up to ``timeout`` for a free one).

Each socket read waits at most ``timeout`` (as redis-py's ``socket_timeout``). A
connection that failed or timed out mid-exchange is closed, never reused, so no reply
is ever left unread on a connection that is handed out again.
"""

from __future__ import annotations

import socket
import ssl
import threading
from typing import Any

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from websession.stores.redis.options import RedisOptions
from websession.stores.redis.wire import hello, new_reader, pack, welcomed

__all__ = ["Connection", "Pool"]

_READ_SIZE = 65536


class Connection:
    """One connection: ``exchange`` sends bytes and reads so many replies."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._reader = new_reader()
        self.closed = False

    def exchange(self, payload: bytes, replies: int) -> list[Any]:
        """Send ``payload`` and read ``replies`` replies (closed on any failure)."""
        try:
            sock, reader = self._sock, self._reader
            sock.sendall(payload)
            results: list[Any] = []
            while len(results) < replies:
                reply = reader.gets()
                if reply is False:
                    data = sock.recv(_READ_SIZE)
                    if not data:
                        raise RedisConnectionError("the Redis server closed the connection")
                    reader.feed(data)
                else:
                    results.append(reply)
            return results
        except TimeoutError as exc:  # the socket's timeout, as redis-py reports it
            self.close()
            raise RedisTimeoutError("timeout reading from the Redis server") from exc
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Close the socket (an unread reply is dropped with it)."""
        self.closed = True
        self._sock.close()

    def __del__(self) -> None:
        # A store dropped without close(): close quietly, as redis-py's connections do.
        if not self.closed:
            self._sock.close()


class Pool:
    """Connections to the server of ``options``, at most ``max_connections``."""

    def __init__(self, options: RedisOptions) -> None:
        self._options = options
        self._hello = hello(options)
        self._idle: list[Connection] = []
        self._slots = threading.BoundedSemaphore(options.max_connections)
        self._ssl = ssl.create_default_context() if options.ssl else None

    def take(self) -> tuple[Connection, bool] | None:
        """A connection and whether it was used before; None if none became free
        within ``timeout``."""
        if not self._slots.acquire(timeout=self._options.timeout):
            return None
        try:
            return self._idle.pop(), True
        except IndexError:
            pass
        try:
            return self._connect(), False
        except BaseException:
            self._slots.release()
            raise

    def give(self, conn: Connection) -> None:
        """Return ``conn`` after an exchange (a closed one is dropped)."""
        if not conn.closed:
            self._idle.append(conn)
        self._slots.release()

    def _connect(self) -> Connection:
        options = self._options
        host, port = options.hosts[0]
        sock = socket.create_connection((host, port), timeout=options.connect_timeout)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self._ssl is not None:
                sock = self._ssl.wrap_socket(sock, server_hostname=host)
            sock.settimeout(options.timeout)
        except BaseException:
            sock.close()
            raise
        conn = Connection(sock)
        if self._hello:
            welcomed(self._hello, conn.exchange(pack(self._hello), len(self._hello)))
        return conn

    def drop_idle(self) -> None:
        """Close every idle connection (after one was found dead)."""
        while True:
            try:
                conn = self._idle.pop()
            except IndexError:
                return
            conn.close()
