"""An emptied session ends like a logout; ``permanent`` per session; refresh each request."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.conftest import store_url
from tests.test_engine import Browser, make_engine
from websession import (
    Op,
    Session,
    SessionConfig,
    SessionEngine,
    SessionMiddleware,
    SetCookie,
    open_async_store,
)
from websession.core.outcomes import Delete, Touch, Update
from websession.core.session import PERMANENT_KEY
from websession.core.tokens import hash_token
from websession.stores import MemoryStore
from websession.testing import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def browser(clock: FakeClock) -> Browser:
    return Browser(make_engine(clock), MemoryStore())


def steps(*actions: Callable[[Session], object]) -> Callable[[Session], None]:
    def run(session: Session) -> None:
        for action in actions:
            action(session)

    return run


def put(name: str, value: object) -> Callable[[Session], None]:
    return lambda session: session.__setitem__(name, value)


def attr(name: str, value: object) -> Callable[[Session], None]:
    return lambda session: setattr(session, name, value)


def key_of(browser: Browser) -> str:
    assert browser.cookie is not None
    verified = browser.engine.verify([f"session={browser.cookie}"])
    assert verified is not None
    return hash_token(verified.token)


# -- an emptied session ends ------------------------------------------------------------


@pytest.mark.parametrize(
    "empty",
    [
        lambda s: s.clear(),
        lambda s: s.pop("a"),
        lambda s: s.__delitem__("a"),
        lambda s: s.popitem(),
    ],
)
def test_emptying_a_stored_session_deletes_it_and_expires_the_cookie(
    browser: Browser, empty: object
) -> None:
    browser.request(put("a", 1))
    key = key_of(browser)
    outcome = browser.request(empty)
    assert isinstance(outcome, Delete)
    assert outcome.cookie.deletes
    assert browser.cookie is None
    assert browser.store.load(key) is None  # type: ignore[arg-type]


def test_an_emptied_session_cookie_is_not_resurrected(browser: Browser) -> None:
    browser.request(put("a", 1))
    old = browser.cookie
    browser.request(lambda s: s.clear())
    browser.cookie = old  # a replay of the cookie the logout ended
    seen: list[bool] = []
    outcome = browser.request(steps(lambda s: seen.append(s.is_new), put("b", 2)))
    assert seen == [True]
    assert outcome.op is Op.CREATE
    assert browser.cookie != old


def test_a_session_with_a_user_and_no_data_is_not_empty(browser: Browser) -> None:
    browser.request(steps(put("a", 1), attr("user_id", "alice")))
    outcome = browser.request(lambda s: s.clear())
    assert isinstance(outcome, Update)
    assert outcome.changes.remove == frozenset({"a"})


def test_unbinding_the_user_of_a_session_without_data_ends_it(browser: Browser) -> None:
    browser.request(attr("user_id", "alice"))
    outcome = browser.request(attr("user_id", None))
    assert isinstance(outcome, Delete)


def test_a_session_holding_only_its_permanent_choice_is_empty(browser: Browser) -> None:
    browser.request(steps(put("a", 1), attr("permanent", False)))
    outcome = browser.request(lambda s: s.pop("a"))
    assert isinstance(outcome, Delete)


def test_emptying_then_setting_again_keeps_the_session(browser: Browser) -> None:
    browser.request(put("a", 1))
    outcome = browser.request(steps(Session.clear, put("b", 2)))
    assert isinstance(outcome, Update)


def test_an_untouched_empty_record_is_left_alone(browser: Browser, clock: FakeClock) -> None:
    browser.request(put("a", 1))
    clock.advance(60)
    assert browser.request(lambda s: len(s)).op is Op.NOTHING


def test_emptying_a_new_session_creates_nothing(browser: Browser) -> None:
    outcome = browser.request(steps(put("a", 1), Session.clear))
    assert outcome.op is Op.NOTHING
    assert outcome.cookie is None
    assert len(browser.store) == 0


# -- permanent, per session -------------------------------------------------------------------


def test_a_browser_session_cookie_per_session(browser: Browser) -> None:
    outcome = browser.request(steps(put("a", 1), attr("permanent", False)))
    assert outcome.cookie is not None
    assert outcome.cookie.max_age is None


def test_the_permanent_choice_persists_across_requests(browser: Browser) -> None:
    browser.request(steps(put("a", 1), attr("permanent", False)))
    seen: list[bool] = []
    outcome = browser.request(steps(lambda s: seen.append(s.permanent), put("b", 2)))
    assert seen == [False]
    assert outcome.cookie is not None
    assert outcome.cookie.max_age is None


def test_remember_me_on_a_browser_session_configuration(clock: FakeClock) -> None:
    browser = Browser(make_engine(clock, permanent=False), MemoryStore())
    browser.request(put("a", 1))
    outcome = browser.request(attr("permanent", True))
    assert isinstance(outcome, Update)
    assert outcome.changes.set == {PERMANENT_KEY: True}
    assert outcome.cookie.max_age == 1800


def test_choosing_the_default_again_removes_the_stored_choice(browser: Browser) -> None:
    browser.request(steps(put("a", 1), attr("permanent", False)))
    outcome = browser.request(attr("permanent", True))
    assert isinstance(outcome, Update)
    assert outcome.changes.remove == frozenset({PERMANENT_KEY})
    assert outcome.cookie.max_age == 1800


def test_an_anonymous_permanent_choice_creates_no_row(browser: Browser) -> None:
    assert browser.request(attr("permanent", False)).op is Op.NOTHING
    assert len(browser.store) == 0


# -- refresh_each_request ------------------------------------------------------------------


def test_refresh_each_request_touches_a_permanent_session_every_time(clock: FakeClock) -> None:
    browser = Browser(make_engine(clock, refresh_each_request=True), MemoryStore())
    browser.request(put("a", 1))
    clock.advance(1)
    outcome = browser.request()
    assert isinstance(outcome, Touch)
    assert outcome.cookie is not None
    assert outcome.cookie.max_age == 1800


def test_refresh_each_request_leaves_browser_sessions_to_the_threshold(clock: FakeClock) -> None:
    browser = Browser(make_engine(clock, refresh_each_request=True), MemoryStore())
    browser.request(steps(put("a", 1), attr("permanent", False)))
    clock.advance(1)
    assert browser.request().op is Op.NOTHING


def test_a_browser_session_refresh_writes_but_sends_no_cookie(clock: FakeClock) -> None:
    browser = Browser(make_engine(clock, permanent=False), MemoryStore())
    browser.request(put("a", 1))
    clock.advance(timedelta(minutes=20))
    outcome = browser.request()
    assert isinstance(outcome, Touch)
    assert outcome.cookie is None


# -- over HTTP, on every store ----------------------------------------------------------------


async def test_logout_with_clear_ends_the_session_in_the_store(
    store_kind: str, tmp_path: Path
) -> None:
    async def login(request: Request) -> JSONResponse:
        request.session["user"] = "alice"
        return JSONResponse({})

    async def logout(request: Request) -> JSONResponse:
        request.session.clear()
        return JSONResponse({"session": request.session})

    async def whoami(request: Request) -> JSONResponse:
        return JSONResponse({"session": request.session})

    store = open_async_store(store_url(store_kind, tmp_path))
    app = Starlette(
        routes=[Route("/login", login), Route("/logout", logout), Route("/whoami", whoami)]
    )
    config = SessionConfig(secret="e" * 32, secure=False)
    app.add_middleware(SessionMiddleware, store=store, config=config)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            response = await client.get("/login")
            value = SetCookie.parse(response.headers["set-cookie"]).value
            response = await client.get("/logout")
            assert response.json() == {"session": {}}
            assert SetCookie.parse(response.headers["set-cookie"]).deletes
        verified = SessionEngine(config).verify([f"session={value}"])
        assert verified is not None
        assert await store.load(hash_token(verified.token)) is None
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as replay:
            response = await replay.get("/whoami", headers={"cookie": f"session={value}"})
            assert response.json() == {"session": {}}
            assert "set-cookie" not in response.headers
    finally:
        await store.close()
