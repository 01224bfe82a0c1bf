"""Call apps in-process: ASGI directly, WSGI through its environ interface."""

from __future__ import annotations

import io
import time
from dataclasses import dataclass, field
from typing import Any

from bench.apps import Message, Subject


@dataclass
class Response:
    """What one request answered."""

    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    def set_cookies(self) -> list[str]:
        """The Set-Cookie header values."""
        return [value for name, value in self.headers if name.lower() == "set-cookie"]

    def cookie(self) -> str:
        """The ``name=value`` of the first Set-Cookie, for a later Cookie header."""
        values = self.set_cookies()
        if not values:
            raise AssertionError(f"no Set-Cookie in {self.headers}")
        return values[0].split(";", 1)[0]


def _asgi_scope(path: str, cookie: str | None) -> dict[str, Any]:
    headers = [(b"host", b"bench.local"), (b"user-agent", b"bench")]
    if cookie is not None:
        headers.append((b"cookie", cookie.encode("latin-1")))
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("bench.local", 80),
        "state": {},
    }


def _wsgi_environ(path: str, cookie: str | None) -> dict[str, Any]:
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "bench.local",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "bench.local",
        "HTTP_USER_AGENT": "bench",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.errors": io.StringIO(),
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    if cookie is not None:
        environ["HTTP_COOKIE"] = cookie
    return environ


class Driver:
    """Sends the same request to one subject, once or many times in a row."""

    def __init__(self, subject: Subject, path: str, cookie: str | None) -> None:
        self.subject = subject
        self.path = path
        self.cookie = cookie
        self._scope = _asgi_scope(path, cookie)
        self._environ = _wsgi_environ(path, cookie)

    async def once(self) -> Response:
        """One request; its full response."""
        if self.subject.kind == "asgi":
            return await self._asgi()
        return self._wsgi()

    async def _asgi(self) -> Response:
        messages: list[Message] = []

        async def receive() -> Message:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: Message) -> None:
            messages.append(message)

        await self.subject.app(dict(self._scope), receive, send)
        start = messages[0]
        headers = [(n.decode("latin-1"), v.decode("latin-1")) for n, v in start["headers"]]
        body = b"".join(m.get("body", b"") for m in messages[1:])
        return Response(start["status"], headers, body)

    def _wsgi(self) -> Response:
        seen: list[Any] = []

        def start_response(status: str, headers: list[tuple[str, str]], *_: Any) -> None:
            seen.append((int(status.split(" ", 1)[0]), headers))

        environ = dict(self._environ)
        environ["wsgi.input"] = io.BytesIO()
        chunks = self.subject.app(environ, start_response)
        try:
            body = b"".join(chunks)
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()
        status, headers = seen[0]
        return Response(status, list(headers), body)

    async def run(self, n: int) -> float:
        """Send ``n`` requests in a row; return the seconds they took in all."""
        if self.subject.kind != "asgi":  # WSGI: Flask or Django
            return self._run_wsgi(n)
        app = self.subject.app
        scope = self._scope

        async def receive() -> Message:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: Message) -> None:
            pass

        start = time.perf_counter()
        for _ in range(n):
            await app(dict(scope), receive, send)
        return time.perf_counter() - start

    def _run_wsgi(self, n: int) -> float:
        app = self.subject.app
        base = self._environ

        def start_response(status: str, headers: list[tuple[str, str]], *_: Any) -> None:
            pass

        start = time.perf_counter()
        for _ in range(n):
            environ = dict(base)
            environ["wsgi.input"] = io.BytesIO()
            chunks = app(environ, start_response)
            for _chunk in chunks:
                pass
            close = getattr(chunks, "close", None)
            if close is not None:
                close()
        return time.perf_counter() - start
