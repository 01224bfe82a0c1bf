"""The encrypted cookie backend: codec, deadlines, key rotation, size limit, revocation,
and its use from SessionMiddleware."""

from __future__ import annotations

import base64
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any, cast

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from tests.spy import SpyStore
from websession import (
    ConfigError,
    SessionConfig,
    SessionMiddleware,
    SetCookie,
    StoreError,
    get_session,
    open_async_store,
    open_store,
)
from websession.backends.cookie import (
    MAX_COOKIE_BYTES,
    MAX_REVOKED_IDS,
    CookieBackend,
    CookieCodec,
    Payload,
    revocation_key,
)
from websession.stores.base import AsyncStore, AsyncUserIndex
from websession.testing import FakeClock
from websession.types import Record

OLD, NEW = "o" * 32, "n" * 32
CONFIG = SessionConfig(
    secret=NEW,
    secure=False,
    idle_timeout=timedelta(minutes=30),
    absolute_timeout=timedelta(hours=2),
)


def payload(data: dict[str, Any] | None = None, user: str | None = None) -> Payload:
    record = Record(data or {"a": 1}, 1.0, 2.0, 3.0, 4.0, user)
    return Payload(record, "S" * 22, 1.5)


def codec(*secrets: str, name: str = "session") -> CookieCodec:
    return CookieCodec(
        CONFIG.replace(secret=secrets[0], previous_secrets=secrets[1:]).verifying_secrets, name
    )


# -- codec ---------------------------------------------------------------------------


def test_codec_round_trips_every_field() -> None:
    sealed = codec(NEW).seal(payload({"cart": [1, 2], "n": None}, "alice"))
    opened = codec(NEW).open(sealed)
    assert opened == payload({"cart": [1, 2], "n": None}, "alice")


def test_sealing_twice_gives_different_cookies() -> None:
    c = codec(NEW)
    assert c.seal(payload()) != c.seal(payload())


def test_every_tampered_byte_is_refused() -> None:
    c = codec(NEW)
    raw = bytearray(base64.urlsafe_b64decode(c.seal(payload()) + "=="))
    for index in range(len(raw)):
        forged = bytearray(raw)
        forged[index] ^= 0x01
        value = base64.urlsafe_b64encode(bytes(forged)).rstrip(b"=").decode()
        assert c.open(value) is None


def test_a_foreign_key_is_refused() -> None:
    assert codec("f" * 32).open(codec(NEW).seal(payload())) is None


def test_the_cookie_name_is_authenticated() -> None:
    assert codec(NEW, name="other").open(codec(NEW).seal(payload())) is None


def test_an_older_key_opens_and_says_stale() -> None:
    sealed = codec(OLD).seal(payload())
    opened = codec(NEW, OLD).open(sealed)
    assert opened is not None
    assert opened.stale


def test_a_rotated_out_key_is_refused() -> None:
    assert codec(NEW).open(codec(OLD).seal(payload())) is None


class CountingKey:
    """Counts the per-message keys derived by a codec's master keys."""

    def __init__(self, inner: Any, calls: list[int]) -> None:
        self.inner, self.calls = inner, calls

    def copy(self) -> Any:
        self.calls.append(1)
        return self.inner.copy()


def test_the_key_id_picks_one_key_no_loop() -> None:
    secrets = [NEW, "x" * 32, "y" * 32, OLD]
    c = codec(*secrets)
    calls: list[int] = []
    c._keys = {kid: CountingKey(key, calls) for kid, key in c._keys.items()}  # type: ignore[misc]
    assert c.open(codec(OLD).seal(payload())) is not None
    assert len(calls) == 1
    assert c.open(codec("z" * 32).seal(payload())) is None
    assert len(calls) == 1  # an unknown key id is refused before any key is derived


def test_duplicate_secrets_are_a_config_error() -> None:
    with pytest.raises(ConfigError, match="duplicate"):
        codec(NEW, NEW)


def test_open_store_refuses_cookie_urls_with_advice() -> None:
    with pytest.raises(ConfigError, match="SessionMiddleware"):
        open_store("cookie://")


# -- over HTTP -----------------------------------------------------------------------


async def read(request: Request) -> Response:
    return JSONResponse(dict(request.session))


async def write(request: Request) -> Response:
    for key, value in request.query_params.items():
        request.session[key] = value
    return PlainTextResponse("ok")


async def login(request: Request) -> Response:
    session = get_session(request)
    session.regenerate()
    session.user_id = request.query_params.get("user", "alice")
    return PlainTextResponse("ok")


async def logout(request: Request) -> Response:
    get_session(request).destroy()
    return PlainTextResponse("ok")


async def whoami(request: Request) -> Response:
    session = get_session(request)
    return JSONResponse({"user": session.user_id, "new": session.is_new})


async def big(request: Request) -> Response:
    request.session["blob"] = "x" * int(request.query_params["n"])
    return PlainTextResponse("never sent")


def build_app(store: Any, config: SessionConfig | None = None) -> Starlette:
    app = Starlette(
        routes=[
            Route("/read", read),
            Route("/write", write),
            Route("/login", login, methods=["POST"]),
            Route("/logout", logout, methods=["POST"]),
            Route("/whoami", whoami),
            Route("/big", big),
        ]
    )
    app.add_middleware(SessionMiddleware, store=store, config=config)
    return app


def client_for(app: Starlette) -> httpx.AsyncClient:
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")

    async def forget_cookies(response: httpx.Response) -> None:
        client.cookies.clear()

    client.event_hooks["response"] = [forget_cookies]
    return client


def cookie_of(response: httpx.Response) -> SetCookie | None:
    headers = response.headers.get_list("set-cookie")
    return SetCookie.parse(headers[0]) if headers else None


def jar(response: httpx.Response) -> dict[str, str]:
    cookie = cookie_of(response)
    assert cookie is not None
    return {"cookie": f"session={cookie.value}"}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def spy() -> AsyncIterator[SpyStore]:
    store = open_async_store("memory://")
    yield SpyStore(store)
    await store.close()


@pytest.fixture
def backend(spy: SpyStore, clock: FakeClock) -> CookieBackend:
    return CookieBackend(CONFIG, revocations=cast(AsyncStore, spy), clock=clock)


@pytest.fixture
def client(backend: CookieBackend) -> httpx.AsyncClient:
    return client_for(build_app(backend))


async def test_data_travels_in_the_cookie_without_store_io(
    client: httpx.AsyncClient, spy: SpyStore
) -> None:
    response = await client.get("/write", params={"color": "blue"})
    cookie = cookie_of(response)
    assert cookie is not None
    assert cookie.http_only
    assert "blue" not in cookie.value
    assert response.headers["cache-control"] == "no-store"
    response = await client.get("/read", headers=jar(response))
    assert response.json() == {"color": "blue"}
    assert "set-cookie" not in response.headers
    assert spy.ops() == []


async def test_anonymous_visitor_who_stores_nothing_gets_no_cookie(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/read")
    assert "set-cookie" not in response.headers


async def test_the_idle_deadline_is_enforced_from_inside_the_cookie(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    headers = jar(await client.get("/write", params={"k": "v"}))
    clock.advance(timedelta(minutes=31))
    assert (await client.get("/read", headers=headers)).json() == {}


async def test_refresh_reissues_the_cookie_only_past_the_threshold(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    headers = jar(await client.get("/write", params={"k": "v"}))
    clock.advance(timedelta(minutes=10))
    assert "set-cookie" not in (await client.get("/read", headers=headers)).headers
    clock.advance(timedelta(minutes=10))
    response = await client.get("/read", headers=headers)
    refreshed = cookie_of(response)
    assert refreshed is not None
    assert refreshed.max_age == 30 * 60


async def test_the_absolute_deadline_holds_however_active_the_session_is(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    headers = jar(await client.get("/write", params={"k": "v"}))
    for _ in range(4):
        clock.advance(timedelta(minutes=25))
        headers = jar(await client.get("/write", params={"k": "v"}, headers=headers))
    clock.advance(timedelta(minutes=15))  # 115 minutes in, 5 before the absolute deadline
    last = cookie_of(await client.get("/write", params={"k": "v"}, headers=headers))
    assert last is not None
    assert last.max_age == 5 * 60
    clock.advance(timedelta(minutes=6))
    assert (await client.get("/read", headers={"cookie": f"session={last.value}"})).json() == {}


async def test_a_cookie_of_an_older_key_is_resealed_with_the_newest(clock: FakeClock) -> None:
    old_app = build_app(CookieBackend(CONFIG.replace(secret=OLD), clock=clock))
    headers = jar(await client_for(old_app).get("/write", params={"k": "v"}))
    rotated = CONFIG.replace(secret=NEW, previous_secrets=[OLD])
    response = await client_for(build_app(CookieBackend(rotated, clock=clock))).get(
        "/read", headers=headers
    )
    assert response.json() == {"k": "v"}
    resealed = cookie_of(response)
    assert resealed is not None
    assert codec(NEW).open(resealed.value) is not None


async def test_a_cookie_past_4096_bytes_is_a_clear_error_not_a_dropped_cookie(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    fits = await client.get("/big", params={"n": "2500"})
    cookie = cookie_of(fits)
    assert cookie is not None
    assert len(cookie.name) + len(cookie.value) <= MAX_COOKIE_BYTES
    with caplog.at_level(logging.ERROR, logger="websession"):
        response = await client.get("/big", params={"n": "3500"})
    assert response.status_code == 413
    assert "set-cookie" not in response.headers
    assert "never sent" not in response.text
    assert "4096" in caplog.text


async def test_cookie_url_with_a_revocation_store(clock: FakeClock) -> None:
    app = build_app("cookie://?revocations=memory%3A%2F%2F", CONFIG)
    client = client_for(app)
    headers = jar(await client.post("/login"))
    assert (await client.get("/whoami", headers=headers)).json()["user"] == "alice"


async def test_cookie_url_without_revocations_still_serves_sessions() -> None:
    client = client_for(build_app("cookie://", CONFIG))
    headers = jar(await client.get("/write", params={"k": "v"}))
    assert (await client.get("/read", headers=headers)).json() == {"k": "v"}


@pytest.mark.parametrize("url", ["cookie://host", "cookie:///path", "cookie://?other=1"])
def test_bad_cookie_urls_are_config_errors(url: str) -> None:
    with pytest.raises(ConfigError, match="cookie"):
        build_app(url, CONFIG).build_middleware_stack()


def test_a_backend_and_a_different_config_are_a_config_error() -> None:
    backend = CookieBackend(CONFIG)
    with pytest.raises(ConfigError, match="both"):
        SessionMiddleware(read, store=backend, config=CONFIG.replace(secret=OLD))  # type: ignore[arg-type]


# -- revocation ----------------------------------------------------------------------


async def test_user_bound_cookie_costs_one_revocation_read(
    client: httpx.AsyncClient, spy: SpyStore
) -> None:
    headers = jar(await client.post("/login"))
    assert spy.ops() == []
    await client.get("/whoami", headers=headers)
    assert spy.ops() == ["load"]


async def test_revoke_user_logs_out_every_cookie_session_of_the_user(
    client: httpx.AsyncClient, backend: CookieBackend, clock: FakeClock
) -> None:
    phone = jar(await client.post("/login"))
    laptop = jar(await client.post("/login"))
    bob = jar(await client.post("/login", params={"user": "bob"}))
    clock.advance(1)
    await backend.revoke_user("alice")
    for headers in (phone, laptop):
        assert (await client.get("/whoami", headers=headers)).json() == {
            "user": None,
            "new": True,
        }
    assert (await client.get("/whoami", headers=bob)).json()["user"] == "bob"
    clock.advance(1)
    again = jar(await client.post("/login"))
    assert (await client.get("/whoami", headers=again)).json()["user"] == "alice"


async def test_logout_revokes_that_cookie_only(client: httpx.AsyncClient, spy: SpyStore) -> None:
    phone = jar(await client.post("/login"))
    laptop = jar(await client.post("/login"))
    response = await client.post("/logout", headers=phone)
    gone = cookie_of(response)
    assert gone is not None
    assert gone.deletes
    assert "update" in spy.ops() or "create" in spy.ops()
    assert (await client.get("/whoami", headers=phone)).json()["user"] is None
    assert (await client.get("/whoami", headers=laptop)).json()["user"] == "alice"


async def test_regenerate_revokes_the_old_cookie_of_a_user(client: httpx.AsyncClient) -> None:
    first = jar(await client.post("/login"))
    second = jar(await client.post("/login", headers=first))
    assert (await client.get("/whoami", headers=first)).json()["user"] is None
    assert (await client.get("/whoami", headers=second)).json()["user"] == "alice"


async def test_revocation_records_survive_a_session_store_delete_user(
    client: httpx.AsyncClient, spy: SpyStore
) -> None:
    phone = jar(await client.post("/login"))
    await client.post("/logout", headers=phone)
    assert isinstance(spy.inner, AsyncUserIndex)
    await spy.inner.delete_user("alice")
    assert await spy.inner.load(revocation_key("alice")) is not None
    assert (await client.get("/whoami", headers=phone)).json()["user"] is None


async def test_revoked_ids_per_user_stay_bounded(
    client: httpx.AsyncClient, spy: SpyStore, clock: FakeClock
) -> None:
    for _ in range(80):
        await client.post("/logout", headers=jar(await client.post("/login")))
        clock.advance(0.01)
    record = await spy.inner.load(revocation_key("alice"))
    assert record is not None
    assert len(record.data) <= 66
    fresh = jar(await client.post("/login"))
    assert (await client.get("/whoami", headers=fresh)).json()["user"] == "alice"


async def test_revoke_user_without_a_revocation_store_says_what_to_do() -> None:
    with pytest.raises(ConfigError, match="revocations="):
        await CookieBackend(CONFIG).revoke_user("alice")


async def test_a_failing_revocation_store_answers_503(backend: CookieBackend) -> None:
    client = client_for(build_app(backend))
    headers = jar(await client.post("/login"))

    class Down:
        async def load(self, key: Any) -> None:
            raise StoreError("store down") from ConnectionError("refused")

    backend.revocations = cast(AsyncStore, Down())
    response = await client.get("/whoami", headers=headers)
    assert response.status_code == 503


async def test_regenerate_of_a_cookie_revoked_meanwhile_ends_anonymous(
    backend: CookieBackend, clock: FakeClock
) -> None:
    session = await backend.open([])
    session.user_id = "alice"
    login = await backend.save(session)
    assert login is not None
    clock.advance(1)
    session = await backend.open([f"session={login.value}"])
    assert session.user_id == "alice"
    await backend.revoke_user("alice")  # an operator, or another request, meanwhile
    session.regenerate()
    cookie = await backend.save(session)
    assert cookie is not None
    assert cookie.deletes


async def test_the_revocation_past_the_limit_spares_the_cookie_it_issues(
    backend: CookieBackend, clock: FakeClock
) -> None:
    session = await backend.open([])
    session.user_id = "alice"
    cookie = await backend.save(session)
    ended: list[str] = []
    for _ in range(MAX_REVOKED_IDS + 3):  # each regenerate revokes the previous cookie
        assert cookie is not None
        clock.advance(0.001)
        session = await backend.open([f"session={cookie.value}"])
        assert session.user_id == "alice"
        session.regenerate()
        ended.append(cookie.value)
        cookie = await backend.save(session)
    assert cookie is not None
    assert not cookie.deletes
    assert (await backend.open([f"session={cookie.value}"])).user_id == "alice"
    for value in ended:
        assert (await backend.open([f"session={value}"])).is_new
