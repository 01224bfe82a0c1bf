"""The CSRF middleware over HTTP: headers, tokens in headers and forms, body replay,
rejections, exemptions, rotation and the template/JS helpers."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any, cast

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from tests.spy import SpyStore
from websession import SessionConfig, SessionMiddleware, SetCookie, get_session, open_async_store
from websession.integrations.csrf import CSRFMiddleware, csrf_input, csrf_meta, csrf_token
from websession.stores.base import AsyncStore
from websession.testing import FakeClock

CONFIG = SessionConfig(secret="c" * 32, secure=False)
ORIGIN = "http://testserver"


async def form_page(request: Request) -> Response:
    return HTMLResponse(f"<form method=post>{csrf_input(request)}</form>{csrf_meta(request)}")


async def token(request: Request) -> Response:
    return JSONResponse({"token": csrf_token(request)})


async def echo(request: Request) -> Response:
    body = await request.body()
    return Response(body, media_type="application/octet-stream")


async def echo_form(request: Request) -> Response:
    async with request.form() as form:
        return JSONResponse({k: v for k, v in form.items() if isinstance(v, str)})


async def login(request: Request) -> Response:
    session = get_session(request)
    session.regenerate()
    session.user_id = "alice"
    return JSONResponse({"token": csrf_token(request)})


async def hook(request: Request) -> Response:
    return PlainTextResponse("hooked")


def build_app(store: AsyncStore, **options: Any) -> Starlette:
    app = Starlette(
        routes=[
            Route("/form", form_page),
            Route("/token", token),
            Route("/echo", echo, methods=["POST", "PUT", "DELETE", "PATCH"]),
            Route("/echo-form", echo_form, methods=["POST"]),
            Route("/login", login, methods=["POST"]),
            Route("/hooks/in", hook, methods=["POST"]),
            Route("/hooks", hook, methods=["POST"]),
        ]
    )
    app.add_middleware(CSRFMiddleware, **options)
    app.add_middleware(SessionMiddleware, store=store, config=CONFIG, clock=FakeClock())
    return app


def client_for(app: Starlette) -> httpx.AsyncClient:
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=ORIGIN)

    async def forget_cookies(response: httpx.Response) -> None:
        client.cookies.clear()

    client.event_hooks["response"] = [forget_cookies]
    return client


@pytest.fixture
async def spy() -> AsyncIterator[SpyStore]:
    store = open_async_store("memory://")
    yield SpyStore(store)
    await store.close()


@pytest.fixture
def client(spy: SpyStore) -> httpx.AsyncClient:
    return client_for(build_app(cast(AsyncStore, spy), exempt_paths=["/hooks/"]))


def cookies_of(response: httpx.Response) -> dict[str, SetCookie]:
    parsed = [SetCookie.parse(h) for h in response.headers.get_list("set-cookie")]
    return {c.name: c for c in parsed}


async def session_with_token(client: httpx.AsyncClient) -> tuple[str, str]:
    """Return (session cookie header, token) of a fresh session."""
    response = await client.get("/token")
    cookie = cookies_of(response)["session"]
    return f"session={cookie.value}", response.json()["token"]


# -- header decisions ----------------------------------------------------------------


async def test_safe_methods_pass_without_anything(client: httpx.AsyncClient) -> None:
    response = await client.get("/form", headers={"sec-fetch-site": "cross-site"})
    assert response.status_code == 200


async def test_same_origin_fetch_metadata_passes_without_a_token(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/echo", content=b"x", headers={"sec-fetch-site": "same-origin"})
    assert response.status_code == 200


async def test_own_origin_passes_without_a_token(client: httpx.AsyncClient) -> None:
    response = await client.post("/echo", content=b"x", headers={"origin": ORIGIN})
    assert response.status_code == 200


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
async def test_cross_site_fetch_metadata_is_rejected(
    client: httpx.AsyncClient, method: str
) -> None:
    cookie, good = await session_with_token(client)
    response = await client.request(
        method,
        "/echo",
        headers={
            "sec-fetch-site": "cross-site",
            "origin": "https://evil.example",
            "x-csrf-token": good,
            "cookie": cookie,
        },
    )
    assert response.status_code == 403


async def test_foreign_origin_is_rejected_even_with_a_valid_token(
    client: httpx.AsyncClient,
) -> None:
    cookie, good = await session_with_token(client)
    response = await client.post(
        "/echo",
        headers={"origin": "https://evil.example", "x-csrf-token": good, "cookie": cookie},
    )
    assert response.status_code == 403


async def test_trusted_origin_passes(spy: SpyStore) -> None:
    client = client_for(build_app(cast(AsyncStore, spy), trusted_origins=["https://admin.example"]))
    response = await client.post(
        "/echo", headers={"origin": "https://admin.example", "sec-fetch-site": "cross-site"}
    )
    assert response.status_code == 200


async def test_repeated_origin_headers_are_rejected(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/echo", headers=[("origin", ORIGIN), ("origin", "https://evil.example")]
    )
    assert response.status_code == 403


# -- tokens --------------------------------------------------------------------------


async def test_no_headers_and_no_token_is_rejected(client: httpx.AsyncClient) -> None:
    response = await client.post("/echo", content=b"x")
    assert response.status_code == 403
    assert "missing" in response.text


async def test_token_in_header_passes(client: httpx.AsyncClient) -> None:
    cookie, good = await session_with_token(client)
    response = await client.post(
        "/echo", content=b"payload", headers={"x-csrf-token": good, "cookie": cookie}
    )
    assert response.status_code == 200
    assert response.content == b"payload"


async def test_token_without_its_session_is_rejected(client: httpx.AsyncClient) -> None:
    _, good = await session_with_token(client)
    response = await client.post("/echo", headers={"x-csrf-token": good})
    assert response.status_code == 403


async def test_token_of_another_session_is_rejected(client: httpx.AsyncClient) -> None:
    cookie, _ = await session_with_token(client)
    _, other = await session_with_token(client)
    response = await client.post("/echo", headers={"x-csrf-token": other, "cookie": cookie})
    assert response.status_code == 403
    assert "invalid" in response.text


async def test_token_in_urlencoded_form_passes_and_the_body_is_replayed(
    client: httpx.AsyncClient,
) -> None:
    cookie, good = await session_with_token(client)
    response = await client.post(
        "/echo-form", data={"name": "bob", "_csrf": good}, headers={"cookie": cookie}
    )
    assert response.status_code == 200
    assert response.json() == {"name": "bob", "_csrf": good}


async def test_token_in_multipart_form_passes_and_the_body_is_replayed(
    client: httpx.AsyncClient,
) -> None:
    cookie, good = await session_with_token(client)
    response = await client.post(
        "/echo-form",
        data={"_csrf": good, "title": "hello"},
        files={"upload": ("a.txt", b"\x00\x01binary\r\n--not-a-boundary")},
        headers={"cookie": cookie},
    )
    assert response.status_code == 200
    assert response.json()["title"] == "hello"


async def test_body_reaches_the_app_byte_for_byte_in_chunks(spy: SpyStore) -> None:
    app = build_app(cast(AsyncStore, spy))
    client = client_for(app)
    cookie, good = await session_with_token(client)

    async def chunks() -> AsyncIterator[bytes]:
        yield b"a=1&_csrf="
        yield good.encode()
        yield b"&tail=" + bytes(range(256)).replace(b"&", b"").replace(b"=", b"")

    response = await client.post(
        "/echo",
        content=chunks(),
        headers={"cookie": cookie, "content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 200
    assert response.content.startswith(b"a=1&_csrf=" + good.encode() + b"&tail=\x00\x01")


async def test_oversized_form_is_rejected_without_reaching_the_app(spy: SpyStore) -> None:
    client = client_for(build_app(cast(AsyncStore, spy), max_body_size=1024))
    cookie, good = await session_with_token(client)
    response = await client.post(
        "/echo-form", data={"_csrf": good, "big": "x" * 2000}, headers={"cookie": cookie}
    )
    assert response.status_code == 403
    assert "too large" in response.text


async def test_require_token_refuses_same_origin_requests_without_one(spy: SpyStore) -> None:
    client = client_for(build_app(cast(AsyncStore, spy), require_token=True))
    response = await client.post("/echo", headers={"sec-fetch-site": "same-origin"})
    assert response.status_code == 403
    cookie, good = await session_with_token(client)
    response = await client.post(
        "/echo", headers={"sec-fetch-site": "same-origin", "x-csrf-token": good, "cookie": cookie}
    )
    assert response.status_code == 200


# -- rejections ----------------------------------------------------------------------


async def test_rejection_is_json_for_json_clients(client: httpx.AsyncClient) -> None:
    response = await client.post("/echo", json={"a": 1}, headers={"accept": "application/json"})
    assert response.status_code == 403
    assert response.json() == {
        "error": {
            "code": "csrf_failed",
            "reason": "token_missing",
            "message": "The CSRF token is missing.",
        }
    }


async def test_rejection_is_a_short_page_otherwise(client: httpx.AsyncClient) -> None:
    response = await client.post("/echo", headers={"origin": "https://evil.example"})
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("text/html")
    assert "evil" not in response.text
    assert response.headers["cache-control"] == "no-store"


async def test_rejection_is_logged_without_the_token(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    cookie, _ = await session_with_token(client)
    _, other = await session_with_token(client)
    with caplog.at_level(logging.WARNING, logger="websession.csrf"):
        await client.post("/echo", headers={"x-csrf-token": other, "cookie": cookie})
    assert any("token_invalid" in r.getMessage() for r in caplog.records)
    assert other not in caplog.text


async def test_rejection_writes_nothing(client: httpx.AsyncClient, spy: SpyStore) -> None:
    cookie, _ = await session_with_token(client)
    spy.reset()
    response = await client.post("/login", headers={"cookie": cookie})
    assert response.status_code == 403
    assert spy.ops() == ["load"]
    assert "set-cookie" not in response.headers


# -- exemption, rotation, helpers ----------------------------------------------------


async def test_exempt_prefix_skips_the_check(client: httpx.AsyncClient) -> None:
    response = await client.post("/hooks/in", headers={"origin": "https://evil.example"})
    assert response.status_code == 200


async def test_exempt_prefix_does_not_cover_the_bare_path(client: httpx.AsyncClient) -> None:
    response = await client.post("/hooks", headers={"origin": "https://evil.example"})
    assert response.status_code == 403


async def test_exempt_callable_skips_the_check(spy: SpyStore) -> None:
    client = client_for(
        build_app(cast(AsyncStore, spy), exempt=lambda scope: scope["path"] == "/echo")
    )
    assert (await client.post("/echo")).status_code == 200


async def test_login_rotates_the_token(client: httpx.AsyncClient) -> None:
    cookie, old = await session_with_token(client)
    response = await client.post("/login", headers={"x-csrf-token": old, "cookie": cookie})
    assert response.status_code == 200
    new_cookie = f"session={cookies_of(response)['session'].value}"
    new = response.json()["token"]
    refused = await client.post("/echo", headers={"x-csrf-token": old, "cookie": new_cookie})
    assert refused.status_code == 403
    accepted = await client.post("/echo", headers={"x-csrf-token": new, "cookie": new_cookie})
    assert accepted.status_code == 200


async def test_form_helpers_render_a_different_token_on_every_response(
    client: httpx.AsyncClient,
) -> None:
    first = await client.get("/form")
    cookie = f"session={cookies_of(first)['session'].value}"
    second = await client.get("/form", headers={"cookie": cookie})
    assert '<input type="hidden" name="_csrf" value="' in first.text
    assert '<meta name="csrf-token" content="' in first.text
    assert first.text != second.text


async def test_js_cookie_carries_a_fresh_token_that_scripts_can_send(spy: SpyStore) -> None:
    client = client_for(
        build_app(cast(AsyncStore, spy), js_cookie="csrftoken", js_cookie_secure=False)
    )
    first = await client.get("/token")
    jar = cookies_of(first)
    js = jar["csrftoken"]
    assert not js.http_only
    assert js.same_site == "strict"
    cookie = f"session={jar['session'].value}"
    second = cookies_of(await client.get("/form", headers={"cookie": cookie}))["csrftoken"]
    assert second.value != js.value
    response = await client.post("/echo", headers={"x-csrf-token": js.value, "cookie": cookie})
    assert response.status_code == 200


async def test_js_cookie_is_not_sent_to_sessions_without_a_secret(spy: SpyStore) -> None:
    client = client_for(build_app(cast(AsyncStore, spy), js_cookie="csrftoken"))
    response = await client.post("/echo", headers={"origin": ORIGIN})
    assert "csrftoken" not in cookies_of(response)


async def public_page(request: Request) -> Response:
    csrf_token(request)  # the session has a CSRF secret
    return PlainTextResponse("cached", headers={"cache-control": "public, max-age=600"})


async def test_js_cookie_is_never_set_on_a_publicly_cacheable_response(spy: SpyStore) -> None:
    app = build_app(cast(AsyncStore, spy), js_cookie="csrftoken", js_cookie_secure=False)
    app.router.routes.append(Route("/public", public_page))
    client = client_for(app)
    cookie, _ = await session_with_token(client)
    response = await client.get("/public", headers={"cookie": cookie})
    assert "csrftoken" not in cookies_of(response)


async def test_js_cookie_is_not_resent_to_a_browser_that_holds_a_valid_one(
    spy: SpyStore,
) -> None:
    client = client_for(
        build_app(cast(AsyncStore, spy), js_cookie="csrftoken", js_cookie_secure=False)
    )
    first = await client.get("/token")
    jar = cookies_of(first)
    held = f"session={jar['session'].value}; csrftoken={jar['csrftoken'].value}"
    again = await client.get("/form", headers={"cookie": held})
    assert "csrftoken" not in cookies_of(again)
    stale = f"session={jar['session'].value}; csrftoken=bogus"
    refreshed = await client.get("/form", headers={"cookie": stale})
    assert "csrftoken" in cookies_of(refreshed)
