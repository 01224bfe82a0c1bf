"""Hostile input against the ASGI session middleware, the cookie backend and the CSRF layer.

Every case is sent as raw ASGI (so bytes no HTTP client would send get through) to an
app whose store is spied on, next to a victim's live session. Each case asserts: the
app answers (no exception), with no 5xx; the store sees no write; the victim's session
is untouched; and the hostile request is not served anyone's session data. The last
tests check the work is linear in the input (n against 10n, loosely).
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, cast

import orjson
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from tests.spy import SpyStore
from websession import (
    CookieBackend,
    CSRFMiddleware,
    SessionConfig,
    SessionDataError,
    SessionMiddleware,
    SetCookie,
    get_session,
    open_async_store,
)
from websession.backends.cookie import CookieCodec
from websession.core.cookies import cookie_values
from websession.core.csrf import token_from_form
from websession.core.signing import Signer
from websession.core.tokens import hash_token, new_token
from websession.stores.base import AsyncStore
from websession.testing import FakeClock

SECRET, OLD_SECRET, FOREIGN = "h" * 32, "p" * 32, "f" * 32
CONFIG = SessionConfig(
    secret=SECRET,
    previous_secrets=[OLD_SECRET],
    secure=False,
    idle_timeout=timedelta(minutes=30),
    absolute_timeout=timedelta(hours=2),
    max_size=4096,
)
Headers = list[tuple[bytes, bytes]]


# -- the apps under attack -----------------------------------------------------------


async def read(request: Request) -> Response:
    session = get_session(request)
    return JSONResponse({"data": dict(session), "user": session.user_id})


async def write(request: Request) -> Response:
    request.session["written"] = True
    return PlainTextResponse("ok")


async def prefs(request: Request) -> Response:
    """A careful app storing client JSON: it maps SessionDataError to 400."""
    body = json.loads(await request.body())  # Python's json: NaN, Infinity, big ints
    try:
        for key, value in body.items():
            request.session[key] = value
    except SessionDataError as exc:
        return JSONResponse({"error": str(exc)}, status_code=400)
    return PlainTextResponse("ok")


async def login(request: Request) -> Response:
    session = get_session(request)
    session.regenerate()
    session.user_id = "victim"
    session["secret"] = "victim's data"
    return PlainTextResponse("ok")


async def logout(request: Request) -> Response:
    get_session(request).destroy()
    return PlainTextResponse("ok")


def routes() -> list[Route]:
    return [
        Route("/read", read, methods=["GET", "POST"]),
        Route("/write", write, methods=["POST"]),
        Route("/prefs", prefs, methods=["POST"]),
        Route("/login", login, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
    ]


@dataclass
class Reply:
    status: int
    headers: Headers
    body: bytes

    def cookie(self) -> SetCookie | None:
        for name, value in self.headers:
            if name == b"set-cookie":
                return SetCookie.parse(value.decode("latin-1"))
        return None

    def json(self) -> Any:
        return orjson.loads(self.body)


async def call(
    app: Any,
    method: str,
    path: str,
    headers: Headers,
    chunks: list[Any] | None = None,
    query: bytes = b"",
) -> Reply:
    """Drive ``app`` with raw ASGI messages; ``chunks`` are bodies or whole messages."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "root_path": "",
        "headers": [(b"host", b"testserver"), *headers],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    pending: list[dict[str, Any]] = []
    items = chunks if chunks is not None else [b""]
    for index, item in enumerate(items):
        if isinstance(item, dict):
            pending.append(item)
        else:
            more = index < len(items) - 1
            pending.append({"type": "http.request", "body": item, "more_body": more})

    async def receive() -> dict[str, Any]:
        return pending.pop(0) if pending else {"type": "http.disconnect"}

    sent: list[dict[str, Any]] = []

    async def send(message: Any) -> None:
        sent.append(dict(message))

    await app(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return Reply(start["status"], list(start.get("headers", [])), body)


def cookie_header(value: str | bytes) -> Headers:
    raw = value.encode("latin-1") if isinstance(value, str) else value
    return [(b"cookie", b"session=" + raw)]


SAME_ORIGIN: Headers = [(b"sec-fetch-site", b"same-origin")]


@dataclass
class World:
    """Two apps (server store and encrypted cookie), their spies, a victim in each."""

    clock: FakeClock
    spy: SpyStore
    store_app: Any
    revocations: SpyStore
    cookie_app: Any
    victim: str = ""
    victim_cookie: str = ""
    victim_record: Any = None
    notes: dict[str, str] = field(default_factory=dict)

    async def session_cookie(self, app: Any, path: str = "/login", cookie: str = "") -> str:
        headers = [*SAME_ORIGIN, *(cookie_header(cookie) if cookie else [])]
        reply = await call(app, "POST", path, headers)
        set_cookie = reply.cookie()
        assert set_cookie is not None
        return set_cookie.value


def build_store_app(store: AsyncStore, clock: FakeClock) -> Any:
    app = Starlette(routes=routes())
    app.add_middleware(CSRFMiddleware, max_body_size=64 * 1024)
    app.add_middleware(SessionMiddleware, store=store, config=CONFIG, clock=clock)
    return app


def build_cookie_app(revocations: AsyncStore, clock: FakeClock) -> Any:
    app = Starlette(routes=routes())
    app.add_middleware(CSRFMiddleware)
    backend = CookieBackend(CONFIG, revocations=revocations, clock=clock)
    app.add_middleware(SessionMiddleware, store=backend)
    return app


@pytest.fixture
async def world() -> AsyncIterator[World]:
    clock = FakeClock()
    store, revocations = open_async_store("memory://"), open_async_store("memory://")
    spy, revocation_spy = SpyStore(store), SpyStore(revocations)
    w = World(
        clock,
        spy,
        build_store_app(cast(AsyncStore, spy), clock),
        revocation_spy,
        build_cookie_app(cast(AsyncStore, revocation_spy), clock),
    )
    w.victim = await w.session_cookie(w.store_app)
    w.victim_record = await store.load(hash_token(w.victim.split(".")[0]))
    w.victim_cookie = await w.session_cookie(w.cookie_app)
    yield w
    await store.close()
    await revocations.close()


@dataclass(frozen=True)
class Attack:
    """One hostile request: which app, and how to build it from the world."""

    target: str  # "store" or "cookie"
    method: str
    path: str
    build: Callable[[World], Awaitable[tuple[Headers, list[Any] | None]]]
    expect: frozenset[int] = frozenset({200})


def plain(headers: Headers, chunks: list[Any] | None = None) -> Callable[[World], Any]:
    async def build(w: World) -> tuple[Headers, list[Any] | None]:
        return headers, chunks

    return build


def cookie_attack(value: str | bytes | Callable[[World], Awaitable[str]]) -> Callable[[World], Any]:
    async def build(w: World) -> tuple[Headers, list[Any] | None]:
        raw = await value(w) if callable(value) else value
        return cookie_header(raw), None

    return build


def tamper(value: str, index: int) -> str:
    swap = "A" if value[index] != "A" else "B"
    return value[:index] + swap + value[index + 1 :]


async def victim_tampered_signature(w: World) -> str:
    return tamper(w.victim, len(w.victim) - 5)


async def victim_tampered_token(w: World) -> str:
    return tamper(w.victim, 3)


async def signed_by(secret: str) -> str:
    return Signer(SessionConfig(secret=secret).verifying_secrets).sign(new_token())


async def foreign_signature(w: World) -> str:
    return await signed_by(FOREIGN)


async def rotated_out_signature(w: World) -> str:
    return await signed_by("r" * 32)  # an old secret no longer in the rotation


async def store_key_as_cookie(w: World) -> str:
    return hash_token(w.victim.split(".")[0])


async def raw_token(w: World) -> str:
    return w.victim.split(".")[0]


async def replay_after_logout(w: World) -> str:
    mine = await w.session_cookie(w.store_app)
    await call(w.store_app, "POST", "/logout", [*SAME_ORIGIN, *cookie_header(mine)])
    return mine


async def replay_after_regenerate(w: World) -> str:
    mine = await w.session_cookie(w.store_app)
    await w.session_cookie(w.store_app, cookie=mine)
    return mine


async def replay_after_expiry(w: World) -> str:
    mine = await w.session_cookie(w.store_app)
    w.clock.advance(timedelta(hours=3))
    return mine


async def cookie_replay_after_logout(w: World) -> str:
    mine = await w.session_cookie(w.cookie_app)
    w.clock.advance(1)
    await call(w.cookie_app, "POST", "/logout", [*SAME_ORIGIN, *cookie_header(mine)])
    return mine


async def cookie_replay_after_expiry(w: World) -> str:
    mine = await w.session_cookie(w.cookie_app)
    w.clock.advance(timedelta(hours=3))
    return mine


def sealed(secret: str) -> Callable[[World], Awaitable[str]]:
    async def build(w: World) -> str:
        codec = CookieCodec(SessionConfig(secret=secret).verifying_secrets, "session")
        victim = CookieCodec(CONFIG.verifying_secrets, "session").open(w.victim_cookie)
        assert victim is not None
        return codec.seal(victim)

    return build


async def truncated_cookie(w: World) -> str:
    return w.victim_cookie[: len(w.victim_cookie) // 2]


async def authentic_garbage(w: World) -> str:
    """A cookie our key really sealed whose plaintext is not a session."""
    codec = CookieCodec(CONFIG.verifying_secrets, "session")
    return codec._seal_plain(b'{"d": "not a dict"}')


async def known_kid_bad_tag(w: World) -> str:
    raw = bytearray(base64.urlsafe_b64decode(w.victim_cookie + "=="))
    raw[-1] ^= 0xFF
    return base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()


def json_body(text: bytes) -> Callable[[World], Any]:
    return plain([*SAME_ORIGIN, (b"content-type", b"application/json")], [text])


def csrf_post(headers: Headers, chunks: list[Any] | None = None) -> Callable[[World], Any]:
    """A state-changing request carrying the victim's cookie, as a forger would send it."""

    async def build(w: World) -> tuple[Headers, list[Any] | None]:
        return [*cookie_header(w.victim), *headers], chunks

    return build


FORM = (b"content-type", b"application/x-www-form-urlencoded")
DENIED = frozenset({403})
REFUSED = frozenset({400, 413})
GOOD_SHAPE = "A" * 86

ATTACKS: dict[str, Attack] = {
    # cookie header syntax
    "cookie-empty-header": Attack("store", "GET", "/read", plain([(b"cookie", b"")])),
    "cookie-empty-value": Attack("store", "GET", "/read", cookie_attack("")),
    "cookie-quoted": Attack("store", "GET", "/read", cookie_attack('"abc.def"')),
    "cookie-control-chars": Attack("store", "GET", "/read", cookie_attack(b"\x00\x01\x7f\x1b[2J")),
    "cookie-non-utf8": Attack("store", "GET", "/read", cookie_attack(b"\xff\xfe\xc3(\x80")),
    "cookie-crlf": Attack("store", "GET", "/read", cookie_attack(b"a\r\nSet-Cookie: x=1")),
    "cookie-duplicates": Attack(
        "store", "GET", "/read", plain([(b"cookie", b"session=a; session=b; session=c")] * 3)
    ),
    "cookie-oversized": Attack("store", "GET", "/read", cookie_attack("A" * 100_000)),
    "cookie-thousands-of-pairs": Attack(
        "store",
        "GET",
        "/read",
        plain([(b"cookie", "; ".join(f"c{i}=v" for i in range(5000)).encode())]),
    ),
    "cookie-thousands-of-headers": Attack(
        "store", "GET", "/read", plain([(b"cookie", b"x=1; session=nope")] * 3000)
    ),
    "cookie-only-separators": Attack("store", "GET", "/read", plain([(b"cookie", b";;;=;=;;")])),
    "cookie-long-name": Attack(
        "store", "GET", "/read", plain([(b"cookie", b"s" * 50_000 + b"=1")])
    ),
    # tokens and signatures
    "token-wrong-length": Attack("store", "GET", "/read", cookie_attack("A" * 42 + "." + "B" * 43)),
    "token-wrong-alphabet": Attack(
        "store", "GET", "/read", cookie_attack("+" * 43 + "." + "/" * 43)
    ),
    "token-tampered-signature": Attack(
        "store", "GET", "/read", cookie_attack(victim_tampered_signature)
    ),
    "token-tampered-token": Attack("store", "GET", "/read", cookie_attack(victim_tampered_token)),
    "token-foreign-secret": Attack("store", "GET", "/read", cookie_attack(foreign_signature)),
    "token-rotated-out-secret": Attack(
        "store", "GET", "/read", cookie_attack(rotated_out_signature)
    ),
    "token-path-traversal": Attack(
        "store", "GET", "/read", cookie_attack("../../../../etc/passwd%00")
    ),
    "token-sql-injection": Attack("store", "GET", "/read", cookie_attack("' OR '1'='1' --")),
    "token-redis-injection": Attack("store", "GET", "/read", cookie_attack(b"*\r\nFLUSHALL\r\n")),
    "token-nosql-shape": Attack("store", "GET", "/read", cookie_attack('{"$ne":null}')),
    "token-store-key-as-cookie": Attack(
        "store", "GET", "/read", cookie_attack(store_key_as_cookie)
    ),
    "token-unsigned-raw-token": Attack("store", "GET", "/read", cookie_attack(raw_token)),
    "token-replay-after-logout": Attack(
        "store", "GET", "/read", cookie_attack(replay_after_logout)
    ),
    "token-replay-after-regenerate": Attack(
        "store", "GET", "/read", cookie_attack(replay_after_regenerate)
    ),
    "token-replay-after-expiry": Attack(
        "store", "GET", "/read", cookie_attack(replay_after_expiry)
    ),
    # encrypted cookie payloads
    "sealed-truncated": Attack("cookie", "GET", "/read", cookie_attack(truncated_cookie)),
    "sealed-foreign-key": Attack("cookie", "GET", "/read", cookie_attack(sealed(FOREIGN))),
    "sealed-undecodable": Attack("cookie", "GET", "/read", cookie_attack("!!!not*base64~~")),
    "sealed-bad-tag": Attack("cookie", "GET", "/read", cookie_attack(known_kid_bad_tag)),
    "sealed-authentic-garbage": Attack("cookie", "GET", "/read", cookie_attack(authentic_garbage)),
    "sealed-oversized": Attack("cookie", "GET", "/read", cookie_attack("A" * 20_000)),
    "sealed-replay-after-logout": Attack(
        "cookie", "GET", "/read", cookie_attack(cookie_replay_after_logout)
    ),
    "sealed-replay-after-expiry": Attack(
        "cookie", "GET", "/read", cookie_attack(cookie_replay_after_expiry)
    ),
    "sealed-server-token-to-cookie-app": Attack(
        "cookie", "GET", "/read", cookie_attack(foreign_signature)
    ),
    # application payloads
    "payload-nan": Attack("store", "POST", "/prefs", json_body(b'{"x": NaN}'), REFUSED),
    "payload-infinity": Attack("store", "POST", "/prefs", json_body(b'{"x": Infinity}'), REFUSED),
    "payload-deep-nesting": Attack(
        "store", "POST", "/prefs", json_body(b'{"x": ' + b"[" * 200 + b"]" * 200 + b"}"), REFUSED
    ),
    "payload-huge-integer": Attack(
        "store", "POST", "/prefs", json_body(b'{"x": ' + b"9" * 30 + b"}"), REFUSED
    ),
    "payload-reserved-key": Attack(
        "store", "POST", "/prefs", json_body(b'{"_ws_csrf": "mine"}'), REFUSED
    ),
    "payload-nul-character": Attack(
        "store", "POST", "/prefs", json_body(b'{"x": "a\\u0000b"}'), REFUSED
    ),
    "payload-lone-surrogate": Attack(
        "store", "POST", "/prefs", json_body(b'{"x": "\\ud800"}'), REFUSED
    ),
    "payload-oversized-session": Attack(
        "store", "POST", "/prefs", json_body(b'{"x": "' + b"y" * 10_000 + b'"}'), REFUSED
    ),
    "payload-oversized-cookie-session": Attack(
        "cookie", "POST", "/prefs", json_body(b'{"x": "' + b"y" * 3_500 + b'"}'), REFUSED
    ),
    # CSRF inputs
    "csrf-no-token": Attack("store", "POST", "/write", csrf_post([]), DENIED),
    "csrf-token-wrong-length": Attack(
        "store", "POST", "/write", csrf_post([(b"x-csrf-token", b"A" * 85)]), DENIED
    ),
    "csrf-token-right-length-foreign": Attack(
        "store", "POST", "/write", csrf_post([(b"x-csrf-token", GOOD_SHAPE.encode())]), DENIED
    ),
    "csrf-token-wrong-alphabet": Attack(
        "store", "POST", "/write", csrf_post([(b"x-csrf-token", b"+/=" * 29)]), DENIED
    ),
    "csrf-token-non-ascii": Attack(
        "store", "POST", "/write", csrf_post([(b"x-csrf-token", b"\xff" * 86)]), DENIED
    ),
    "csrf-token-as-array-field": Attack(
        "store", "POST", "/write", csrf_post([FORM], [b"_csrf[]=x&_csrf%5B%5D=y"]), DENIED
    ),
    "csrf-token-json-number": Attack(
        "store",
        "POST",
        "/write",
        csrf_post([(b"content-type", b"application/json")], [b'{"_csrf": 12345}']),
        DENIED,
    ),
    "csrf-origin-null": Attack(
        "store", "POST", "/write", csrf_post([(b"origin", b"null")]), DENIED
    ),
    "csrf-origin-with-path": Attack(
        "store", "POST", "/write", csrf_post([(b"origin", b"http://testserver/x")]), DENIED
    ),
    "csrf-origin-userinfo": Attack(
        "store",
        "POST",
        "/write",
        csrf_post([(b"origin", b"http://testserver@evil.example")]),
        DENIED,
    ),
    "csrf-origin-lookalike": Attack(
        "store",
        "POST",
        "/write",
        csrf_post([(b"origin", b"http://testserver.evil.example")]),
        DENIED,
    ),
    "csrf-origin-other-port": Attack(
        "store", "POST", "/write", csrf_post([(b"origin", b"http://testserver:8080")]), DENIED
    ),
    "csrf-origin-other-scheme": Attack(
        "store", "POST", "/write", csrf_post([(b"origin", b"https://testserver")]), DENIED
    ),
    "csrf-origin-crlf": Attack(
        "store",
        "POST",
        "/write",
        csrf_post([(b"origin", b"http://testserver\r\nx: y")]),
        DENIED,
    ),
    "csrf-origin-non-ascii": Attack(
        "store", "POST", "/write", csrf_post([(b"origin", b"http://t\xe9stserver")]), DENIED
    ),
    "csrf-origin-huge": Attack(
        "store", "POST", "/write", csrf_post([(b"origin", b"http://" + b"a" * 100_000)]), DENIED
    ),
    "csrf-unknown-sec-fetch-site": Attack(
        "store",
        "POST",
        "/write",
        csrf_post([(b"sec-fetch-site", b"same-origin, cross-site")]),
        DENIED,
    ),
    "csrf-sec-fetch-site-cross-with-own-origin-spoof": Attack(
        "store",
        "POST",
        "/write",
        csrf_post([(b"sec-fetch-site", b"cross-site"), (b"origin", b"http://evil.example")]),
        DENIED,
    ),
    "csrf-body-disconnect": Attack(
        "store",
        "POST",
        "/write",
        csrf_post(
            [FORM],
            [
                {"type": "http.request", "body": b"a=1", "more_body": True},
                {"type": "http.disconnect"},
            ],
        ),
        DENIED,
    ),
    "csrf-body-wrong-message": Attack(
        "store", "POST", "/write", csrf_post([FORM], [{"type": "websocket.receive"}]), DENIED
    ),
    "csrf-body-declared-huge": Attack(
        "store",
        "POST",
        "/write",
        csrf_post([FORM, (b"content-length", b"99999999999")], [b"_csrf=x"]),
        DENIED,
    ),
    "csrf-body-lying-length": Attack(
        "store",
        "POST",
        "/write",
        csrf_post([FORM, (b"content-length", b"10")], [b"a" * 40_000, b"a" * 40_000]),
        DENIED,
    ),
    "csrf-multipart-bogus-boundary": Attack(
        "store",
        "POST",
        "/write",
        csrf_post(
            [(b"content-type", b'multipart/form-data; boundary="\xff\xfe"')],
            [b"--\xff\xfe\r\n\r\n_csrf\r\n--\xff\xfe--"],
        ),
        DENIED,
    ),
    "csrf-form-binary-garbage": Attack(
        "store", "POST", "/write", csrf_post([FORM], [bytes(range(256)) * 50]), DENIED
    ),
    "csrf-cookie-app-no-token": Attack("cookie", "POST", "/write", csrf_post([]), DENIED),
}


@pytest.mark.parametrize("name", sorted(ATTACKS))
async def test_hostile_input_is_refused_cleanly(world: World, name: str) -> None:
    attack = ATTACKS[name]
    app = world.store_app if attack.target == "store" else world.cookie_app
    headers, chunks = await attack.build(world)
    world.spy.reset()
    world.revocations.reset()

    reply = await call(app, attack.method, attack.path, headers, chunks)

    assert reply.status < 500
    assert reply.status in attack.expect
    writes = {"create", "update", "touch", "replace", "delete", "delete_user"}
    assert not writes & set(world.spy.ops())
    assert not writes & set(world.revocations.ops())
    assert len(world.spy.ops()) <= 1  # at most the one read of a validly signed cookie
    if reply.status == 200 and attack.path == "/read":
        assert reply.json() == {"data": {}, "user": None}
        set_cookie = reply.cookie()
        assert set_cookie is None or set_cookie.deletes
    await assert_victims_untouched(world)


async def assert_victims_untouched(world: World) -> None:
    key = hash_token(world.victim.split(".")[0])
    assert await world.spy.inner.load(key) == world.victim_record
    for app, cookie in ((world.store_app, world.victim), (world.cookie_app, world.victim_cookie)):
        reply = await call(app, "GET", "/read", cookie_header(cookie))
        if world.clock.now - world.victim_record.created_at < 30 * 60:
            assert reply.json() == {"data": {"secret": "victim's data"}, "user": "victim"}


async def test_a_session_token_in_the_url_is_ignored(world: World) -> None:
    for query in (b"session=" + world.victim.encode(), b"session=" + world.victim_cookie.encode()):
        for app in (world.store_app, world.cookie_app):
            world.spy.reset()
            reply = await call(app, "GET", "/read", [], query=query)
            assert reply.json() == {"data": {}, "user": None}
            assert world.spy.ops() == []


def test_there_are_at_least_forty_distinct_attacks() -> None:
    assert len(ATTACKS) >= 40
    families = {name.split("-")[0] for name in ATTACKS}
    assert families == {"cookie", "token", "sealed", "payload", "csrf"}


# -- bounded work: n against 10n, loosely (linear is 10x, quadratic 100x) ------------


def best_of(repeats: int, run: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


def assert_linear(small: Callable[[], object], large: Callable[[], object]) -> None:
    ratio = best_of(5, large) / max(best_of(5, small), 1e-7)
    assert ratio < 40, f"10x the input cost {ratio:.0f}x the time"


def test_cookie_parsing_is_linear_in_the_number_of_pairs() -> None:
    def header(n: int) -> list[str]:
        return ["; ".join(f"c{i}=v" for i in range(n)) + "; session=x"]

    small, large = header(200), header(2000)  # both under the 16 KiB read cap
    assert_linear(
        lambda: [cookie_values(small, "session") for _ in range(50)],
        lambda: [cookie_values(large, "session") for _ in range(50)],
    )


def test_cookie_parsing_stops_at_the_cap_however_many_headers() -> None:
    many = ["x=1; session=nope"] * 100_000
    start = time.perf_counter()
    found = cookie_values(many, "session")
    assert len(found) <= 16 * 1024 // len(many[0]) + 1  # only the first 16 KiB are read
    assert time.perf_counter() - start < 1.0


def test_form_token_search_is_linear_in_the_number_of_fields() -> None:
    def urlencoded(n: int) -> bytes:
        return b"&".join(b"f%d=v" % i for i in range(n)) + b"&_csrf=t"

    def multipart(n: int) -> bytes:
        part = b'--B\r\nContent-Disposition: form-data; name="f"\r\n\r\nv\r\n'
        return part * n + b'--B\r\nContent-Disposition: form-data; name="_csrf"\r\n\r\nt\r\n--B--'

    form = "application/x-www-form-urlencoded"
    assert_linear(
        lambda: token_from_form(form, urlencoded(1000)),
        lambda: token_from_form(form, urlencoded(10_000)),
    )
    kind = "multipart/form-data; boundary=B"
    assert_linear(
        lambda: token_from_form(kind, multipart(1000)),
        lambda: token_from_form(kind, multipart(10_000)),
    )


def test_sealed_cookie_opening_is_bounded_by_length() -> None:
    codec = CookieCodec(CONFIG.verifying_secrets, "session")
    start = time.perf_counter()
    for _ in range(1000):
        assert codec.open("A" * 1_000_000) is None  # refused by length before decoding
    assert time.perf_counter() - start < 1.0
