# mypy: disable-error-code="unreachable"
# (mypy narrows ``session.modified`` across the mutations upstream's assertions check)
#
# Ported from Starlette 1.10, tests/middleware/test_session.py
# (https://github.com/Kludex/starlette), to websession's SessionMiddleware.
#
# Copyright © 2018, Encode OSS Ltd. All rights reserved.
#
# Redistribution and use in source and binary forms, with or without modification, are
# permitted provided that the following conditions are met:
#
# * Redistributions of source code must retain the above copyright notice, this list of
#   conditions and the following disclaimer.
# * Redistributions in binary form must reproduce the above copyright notice, this list
#   of conditions and the following disclaimer in the documentation and/or other
#   materials provided with the distribution.
# * Neither the name of the copyright holder nor the names of its contributors may be
#   used to endorse or promote products derived from this software without specific
#   prior written permission.
#
# THIS SOFTWARE IS PROVIDED BY THE COPYRIGHT HOLDERS AND CONTRIBUTORS "AS IS" AND ANY
# EXPRESS OR IMPLIED WARRANTIES, INCLUDING, BUT NOT LIMITED TO, THE IMPLIED WARRANTIES
# OF MERCHANTABILITY AND FITNESS FOR A PARTICULAR PURPOSE ARE DISCLAIMED. IN NO EVENT
# SHALL THE COPYRIGHT HOLDER OR CONTRIBUTORS BE LIABLE FOR ANY DIRECT, INDIRECT,
# INCIDENTAL, SPECIAL, EXEMPLARY, OR CONSEQUENTIAL DAMAGES (INCLUDING, BUT NOT LIMITED
# TO, PROCUREMENT OF SUBSTITUTE GOODS OR SERVICES; LOSS OF USE, DATA, OR PROFITS; OR
# BUSINESS INTERRUPTION) HOWEVER CAUSED AND ON ANY THEORY OF LIABILITY, WHETHER IN
# CONTRACT, STRICT LIABILITY, OR TORT (INCLUDING NEGLIGENCE OR OTHERWISE) ARISING IN ANY
# WAY OUT OF THE USE OF THIS SOFTWARE, EVEN IF ADVISED OF THE POSSIBILITY OF SUCH DAMAGE.
"""Starlette's own session tests, run against websession's SessionMiddleware.

What changed in the port, and why (the assertions are Starlette's):

- The import: ``websession.SessionMiddleware`` and ``websession.Session`` instead of
  Starlette's; the middleware keeps Starlette's arguments and its default store
  (``sqlite:///sessions.db``, here in a temporary working directory).
- The secret: Starlette's tests sign with ``"example"``; websession refuses secrets
  shorter than 32 bytes (``test_a_starlette_secret_shorter_than_32_bytes_is_refused``).
- Attribute names are case-insensitive (RFC 6265 §5.2); websession writes ``Path`` and
  ``Partitioned``, Starlette ``path`` and ``partitioned``: those two assertions compare
  case-insensitively.
- The fixtures: ``test_client_factory`` is Starlette's TestClient on asyncio; the
  ``anyio`` mark is left to pytest-asyncio, which this suite runs on.
- ``test_domain_cookie`` cannot hold by design (skipped with the reason); its
  websession twin follows it.
"""

from __future__ import annotations

import functools
import re
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from httpx import ASGITransport, AsyncClient
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route

with warnings.catch_warnings():  # Starlette 1.10 prefers httpx2; this project tests with httpx
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from websession import ConfigError, Session, SessionMiddleware

SECRET = "example-secret-of-at-least-32-bytes"
TestClientFactory = Callable[..., TestClient]


@pytest.fixture(autouse=True)
def _default_store_in_a_temporary_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def test_client_factory() -> TestClientFactory:
    return functools.partial(TestClient, backend="asyncio")


def view_session(request: Request) -> JSONResponse:
    return JSONResponse({"session": request.session})


async def update_session(request: Request) -> JSONResponse:
    data = await request.json()
    request.session.update(data)
    return JSONResponse({"session": request.session})


async def inplace_update_session(request: Request) -> JSONResponse:
    data = await request.json()
    session = request.session
    session |= data
    return JSONResponse({"session": request.session})


async def popitem_session(request: Request) -> JSONResponse:
    request.session.popitem()
    return JSONResponse({"session": request.session})


async def clear_session(request: Request) -> JSONResponse:
    request.session.clear()
    return JSONResponse({"session": request.session})


def no_session_access(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


def test_session(test_client_factory: TestClientFactory) -> None:
    app = Starlette(
        routes=[
            Route("/view_session", endpoint=view_session),
            Route("/update_session", endpoint=update_session, methods=["POST"]),
            Route("/clear_session", endpoint=clear_session, methods=["POST"]),
        ],
        middleware=[Middleware(SessionMiddleware, secret_key=SECRET)],
    )
    client = test_client_factory(app)

    response = client.get("/view_session")
    assert response.json() == {"session": {}}

    response = client.post("/update_session", json={"some": "data"})
    assert response.json() == {"session": {"some": "data"}}

    # check cookie max-age
    set_cookie = response.headers["set-cookie"]
    max_age_matches = re.search(r"; Max-Age=([0-9]+);", set_cookie)
    assert max_age_matches is not None
    assert int(max_age_matches[1]) == 14 * 24 * 3600

    response = client.get("/view_session")
    assert response.json() == {"session": {"some": "data"}}

    response = client.post("/clear_session")
    assert response.json() == {"session": {}}

    response = client.get("/view_session")
    assert response.json() == {"session": {}}


@pytest.mark.parametrize("partitioned", [False, True])
def test_partitioned_session(test_client_factory: TestClientFactory, partitioned: bool) -> None:
    app = Starlette(
        routes=[
            Route("/update_session", endpoint=update_session, methods=["POST"]),
            Route("/clear_session", endpoint=clear_session, methods=["POST"]),
        ],
        middleware=[
            Middleware(
                SessionMiddleware,
                secret_key=SECRET,
                https_only=True,
                same_site="none",
                partitioned=partitioned,
            )
        ],
    )
    client = test_client_factory(app, base_url="https://testserver")
    response = client.post("/update_session", json={"some": "data"})
    attributes = response.headers["set-cookie"].lower().split("; ")
    assert ("partitioned" in attributes) is partitioned

    response = client.post("/clear_session")
    attributes = response.headers["set-cookie"].lower().split("; ")
    assert ("partitioned" in attributes) is partitioned


def test_session_expires(test_client_factory: TestClientFactory) -> None:
    app = Starlette(
        routes=[
            Route("/view_session", endpoint=view_session),
            Route("/update_session", endpoint=update_session, methods=["POST"]),
        ],
        middleware=[Middleware(SessionMiddleware, secret_key=SECRET, max_age=-1)],
    )
    client = test_client_factory(app)

    response = client.post("/update_session", json={"some": "data"})
    assert response.json() == {"session": {"some": "data"}}

    # requests removes expired cookies from response.cookies, we need to
    # fetch session id from the headers and pass it explicitly
    expired_cookie_header = response.headers["set-cookie"]
    expired_session_match = re.search(r"session=([^;]*);", expired_cookie_header)
    assert expired_session_match is not None
    expired_session_value = expired_session_match[1]
    client = test_client_factory(app, cookies={"session": expired_session_value})
    response = client.get("/view_session")
    assert response.json() == {"session": {}}


def test_secure_session(test_client_factory: TestClientFactory) -> None:
    app = Starlette(
        routes=[
            Route("/view_session", endpoint=view_session),
            Route("/update_session", endpoint=update_session, methods=["POST"]),
            Route("/clear_session", endpoint=clear_session, methods=["POST"]),
        ],
        middleware=[Middleware(SessionMiddleware, secret_key=SECRET, https_only=True)],
    )
    secure_client = test_client_factory(app, base_url="https://testserver")
    unsecure_client = test_client_factory(app, base_url="http://testserver")

    response = unsecure_client.get("/view_session")
    assert response.json() == {"session": {}}

    response = unsecure_client.post("/update_session", json={"some": "data"})
    assert response.json() == {"session": {"some": "data"}}

    response = unsecure_client.get("/view_session")
    assert response.json() == {"session": {}}

    response = secure_client.get("/view_session")
    assert response.json() == {"session": {}}

    response = secure_client.post("/update_session", json={"some": "data"})
    assert response.json() == {"session": {"some": "data"}}

    response = secure_client.get("/view_session")
    assert response.json() == {"session": {"some": "data"}}

    response = secure_client.post("/clear_session")
    assert response.json() == {"session": {}}

    response = secure_client.get("/view_session")
    assert response.json() == {"session": {}}


def test_session_cookie_subpath(test_client_factory: TestClientFactory) -> None:
    second_app = Starlette(
        routes=[
            Route("/update_session", endpoint=update_session, methods=["POST"]),
        ],
        middleware=[Middleware(SessionMiddleware, secret_key=SECRET, path="/second_app")],
    )
    app = Starlette(routes=[Mount("/second_app", app=second_app)])
    client = test_client_factory(app, base_url="http://testserver/second_app")
    response = client.post("/update_session", json={"some": "data"})
    assert response.status_code == 200
    cookie = response.headers["set-cookie"]
    cookie_path_match = re.search(r"; path=(\S+);", cookie, re.IGNORECASE)
    assert cookie_path_match is not None
    cookie_path = cookie_path_match.groups()[0]
    assert cookie_path == "/second_app"


def test_invalid_session_cookie(test_client_factory: TestClientFactory) -> None:
    app = Starlette(
        routes=[
            Route("/view_session", endpoint=view_session),
            Route("/update_session", endpoint=update_session, methods=["POST"]),
        ],
        middleware=[Middleware(SessionMiddleware, secret_key=SECRET)],
    )
    client = test_client_factory(app)

    response = client.post("/update_session", json={"some": "data"})
    assert response.json() == {"session": {"some": "data"}}

    # we expect it to not raise an exception if we provide a bogus session cookie
    client = test_client_factory(app, cookies={"session": "invalid"})
    response = client.get("/view_session")
    assert response.json() == {"session": {}}


def test_session_cookie(test_client_factory: TestClientFactory) -> None:
    app = Starlette(
        routes=[
            Route("/view_session", endpoint=view_session),
            Route("/update_session", endpoint=update_session, methods=["POST"]),
        ],
        middleware=[Middleware(SessionMiddleware, secret_key=SECRET, max_age=None)],
    )
    client: TestClient = test_client_factory(app)

    response = client.post("/update_session", json={"some": "data"})
    assert response.json() == {"session": {"some": "data"}}

    # check cookie max-age
    set_cookie = response.headers["set-cookie"]
    assert "Max-Age" not in set_cookie

    client.cookies.delete("session")
    response = client.get("/view_session")
    assert response.json() == {"session": {}}


@pytest.mark.skip(
    reason="by design: websession sends Domain=example.com, without the leading dot "
    "(RFC 6265 §5.2.3 ignores it, and Werkzeug's test client then never sends the "
    "cookie back); test_domain_cookie_without_the_dot is this test with that assertion"
)
def test_domain_cookie(test_client_factory: TestClientFactory) -> None:
    app = Starlette(
        routes=[
            Route("/view_session", endpoint=view_session),
            Route("/update_session", endpoint=update_session, methods=["POST"]),
        ],
        middleware=[Middleware(SessionMiddleware, secret_key=SECRET, domain=".example.com")],
    )
    client: TestClient = test_client_factory(app)

    response = client.post("/update_session", json={"some": "data"})
    assert response.json() == {"session": {"some": "data"}}

    # check cookie max-age
    set_cookie = response.headers["set-cookie"]
    assert "domain=.example.com" in set_cookie

    client.cookies.delete("session")
    response = client.get("/view_session")
    assert response.json() == {"session": {}}


def test_set_cookie_only_on_modification(test_client_factory: TestClientFactory) -> None:
    app = Starlette(
        routes=[
            Route("/view_session", endpoint=view_session),
            Route("/update_session", endpoint=update_session, methods=["POST"]),
        ],
        middleware=[Middleware(SessionMiddleware, secret_key=SECRET)],
    )
    client = test_client_factory(app)

    # Write to session - should send Set-Cookie
    response = client.post("/update_session", json={"some": "data"})
    assert "set-cookie" in response.headers

    # Read-only access - should NOT send Set-Cookie
    response = client.get("/view_session")
    assert response.json() == {"session": {"some": "data"}}
    assert "set-cookie" not in response.headers


def test_vary_cookie_on_access(test_client_factory: TestClientFactory) -> None:
    app = Starlette(
        routes=[
            Route("/view_session", endpoint=view_session),
            Route("/update_session", endpoint=update_session, methods=["POST"]),
            Route("/no_session", endpoint=no_session_access),
        ],
        middleware=[Middleware(SessionMiddleware, secret_key=SECRET)],
    )
    client = test_client_factory(app)

    # Modifying session should add Vary: Cookie
    response = client.post("/update_session", json={"some": "data"})
    assert "cookie" in response.headers.get("vary", "").lower()

    # Reading a non-empty session should add Vary: Cookie
    response = client.get("/view_session")
    assert "cookie" in response.headers.get("vary", "").lower()

    # Not accessing session at all should NOT add Vary: Cookie
    response = client.get("/no_session")
    assert "cookie" not in response.headers.get("vary", "").lower()


@pytest.mark.parametrize("session_data", [{"a": "1"}, {"a": "1", "b": "2"}])
async def test_vary_cookie_on_session_pop(session_data: dict[str, str]) -> None:
    async def pop_session(request: Request) -> JSONResponse:
        return JSONResponse({"value": request.scope["session"].pop("a")})

    app = Starlette(
        routes=[
            Route("/update_session", endpoint=update_session, methods=["POST"]),
            Route("/pop_session", endpoint=pop_session, methods=["POST"]),
        ],
        middleware=[Middleware(SessionMiddleware, secret_key=SECRET)],
    )
    async with AsyncClient(transport=ASGITransport(app), base_url="http://testserver") as client:
        response = await client.post("/update_session", json=session_data)
        assert response.json() == {"session": session_data}

        response = await client.post("/pop_session")
        assert response.json() == {"value": "1"}
        assert "set-cookie" in response.headers
        assert "cookie" in response.headers.get("vary", "").lower()


def test_session_tracks_modification() -> None:
    session = Session({"a": "1", "b": "2"})
    assert not session.modified

    # __setitem__
    session["c"] = "3"
    assert session.modified

    # __delitem__
    session = Session({"a": "1"})
    del session["a"]
    assert session.modified

    # clear
    session = Session({"a": "1"})
    session.clear()
    assert session.modified

    # pop with existing key
    session = Session({"a": "1"})
    session.pop("a")
    assert session.modified
    assert session.accessed

    # pop with missing key
    session = Session({"a": "1"})
    session.pop("missing", None)
    assert not session.modified
    assert not session.accessed

    # setdefault with missing key
    session = Session({"a": "1"})
    session.setdefault("b", "2")
    assert session.modified

    # setdefault with existing key
    session = Session({"a": "1"})
    session.setdefault("a", "2")
    assert not session.modified


@pytest.mark.parametrize(
    ("path", "data", "expected"),
    [
        ("/inplace_update_session", {"c": "3"}, {"a": "1", "b": "2", "c": "3"}),
        ("/popitem_session", None, {"a": "1"}),
    ],
)
def test_session_persists_mutations(
    test_client_factory: TestClientFactory,
    path: str,
    data: dict[str, str] | None,
    expected: dict[str, str],
) -> None:
    app = Starlette(
        routes=[
            Route("/view_session", endpoint=view_session),
            Route("/update_session", endpoint=update_session, methods=["POST"]),
            Route("/inplace_update_session", endpoint=inplace_update_session, methods=["POST"]),
            Route("/popitem_session", endpoint=popitem_session, methods=["POST"]),
        ],
        middleware=[Middleware(SessionMiddleware, secret_key=SECRET)],
    )
    client = test_client_factory(app)

    response = client.post("/update_session", json={"a": "1", "b": "2"})
    assert response.json() == {"session": {"a": "1", "b": "2"}}

    response = client.post(path, json=data)
    assert response.json() == {"session": expected}

    response = client.get("/view_session")
    assert response.json() == {"session": expected}


# -- websession's twins of what cannot hold as written ---------------------------------


def test_domain_cookie_without_the_dot(test_client_factory: TestClientFactory) -> None:
    app = Starlette(
        routes=[
            Route("/view_session", endpoint=view_session),
            Route("/update_session", endpoint=update_session, methods=["POST"]),
        ],
        middleware=[Middleware(SessionMiddleware, secret_key=SECRET, domain=".example.com")],
    )
    client: TestClient = test_client_factory(app)

    response = client.post("/update_session", json={"some": "data"})
    assert response.json() == {"session": {"some": "data"}}

    set_cookie = response.headers["set-cookie"]
    assert "Domain=example.com;" in set_cookie
    assert ".example.com" not in set_cookie

    client.cookies.delete("session")
    response = client.get("/view_session")
    assert response.json() == {"session": {}}


def test_a_starlette_secret_shorter_than_32_bytes_is_refused() -> None:
    app: Any = Starlette()
    with pytest.raises(ConfigError, match="at least 32 bytes"):
        SessionMiddleware(app, secret_key="example")
