"""The sans-IO engine with a fake clock: expiry, refresh, regenerate, destroy, sizes."""

from __future__ import annotations

from datetime import timedelta

import pytest

from websession import (
    Changes,
    Op,
    Outcome,
    Session,
    SessionConfig,
    SessionDataError,
    SessionEngine,
    SessionTooLarge,
    SetCookie,
)
from websession.core.outcomes import Create, Delete, Replace, Touch, Update
from websession.core.session import CSRF_KEY, REVOKED_KEY
from websession.core.signing import Verified
from websession.core.tokens import hash_token
from websession.integrations.saving import save
from websession.stores import MemoryStore
from websession.testing import FakeClock

SECRET = "k" * 32


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def make_engine(clock: FakeClock, **options: object) -> SessionEngine:
    config = SessionConfig(
        secret=SECRET,
        idle_timeout=timedelta(minutes=30),
        absolute_timeout=timedelta(hours=2),
        **options,  # type: ignore[arg-type]
    )
    return SessionEngine(config, clock)


class Browser:
    """Drives the engine and a real memory store the way an integration does."""

    def __init__(self, engine: SessionEngine, store: MemoryStore) -> None:
        self.engine = engine
        self.store = store
        self.cookie: str | None = None
        self.last: Outcome | None = None

    def request(self, handler: object = None) -> Outcome:
        headers = [f"{self.engine.config.cookie_name}={self.cookie}"] if self.cookie else []
        verified = self.engine.verify(headers)
        record = self.store.load(hash_token(verified.token)) if verified else None
        session = self.engine.open(verified, record)
        if callable(handler):
            handler(session)
        outcome = self.engine.finish(session)
        cookie = save(self.store, outcome)
        if cookie is not None:
            self.cookie = None if cookie.deletes else cookie.value
        self.last = outcome
        return outcome


@pytest.fixture
def browser(clock: FakeClock) -> Browser:
    return Browser(make_engine(clock), MemoryStore())


def set_key(name: str, value: object) -> object:
    return lambda s: s.__setitem__(name, value)


def test_anonymous_request_that_stores_nothing_does_nothing(browser: Browser) -> None:
    assert browser.request().op is Op.NOTHING
    assert browser.cookie is None
    assert len(browser.store) == 0


def test_first_write_creates_a_session_and_sets_a_cookie(browser: Browser) -> None:
    outcome = browser.request(set_key("a", 1))
    assert outcome.op is Op.CREATE
    assert browser.cookie is not None
    assert len(browser.store) == 1


def test_read_only_request_does_not_write(browser: Browser, clock: FakeClock) -> None:
    browser.request(set_key("a", 1))
    clock.advance(60)
    outcome = browser.request(lambda s: s["a"])
    assert outcome.op is Op.NOTHING
    assert outcome.cookie is None


def test_refresh_happens_only_after_the_threshold(browser: Browser, clock: FakeClock) -> None:
    browser.request(set_key("a", 1))
    clock.advance(timedelta(minutes=14))
    assert browser.request().op is Op.NOTHING
    clock.advance(timedelta(minutes=2))
    outcome = browser.request()
    assert isinstance(outcome, Touch)
    assert outcome.op is Op.TOUCH
    assert outcome.cookie is not None
    record = browser.store.load(outcome.key)
    assert record is not None
    assert record.expires_at == pytest.approx(clock() + 1800)


def test_idle_timeout_expires_the_session(browser: Browser, clock: FakeClock) -> None:
    browser.request(set_key("a", 1))
    clock.advance(timedelta(minutes=31))
    seen: list[bool] = []
    browser.request(lambda s: seen.append(s.is_new and "a" not in s))
    assert seen == [True]


def test_absolute_timeout_is_never_extended(browser: Browser, clock: FakeClock) -> None:
    browser.request(set_key("n", 0))
    seen: list[bool] = []
    for step in range(1, 7):  # active every 20 minutes: idle never runs out
        clock.advance(timedelta(minutes=20))

        def visit(session: Session, step: int = step) -> None:
            seen.append(session.is_new)
            session["n"] = step

        browser.request(visit)
        outcome = browser.last
        assert isinstance(outcome, Create | Update)
        record = browser.store.load(outcome.key)
        assert record is not None
        assert record.expires_at <= record.absolute_expires_at
    # minutes 20..100 served the same session; minute 120 reached the 2-hour cap
    assert seen == [False, False, False, False, False, True]


def test_expired_session_is_never_served_even_if_the_store_keeps_it(
    browser: Browser, clock: FakeClock
) -> None:
    browser.request(set_key("secret", "x"))
    clock.advance(timedelta(hours=3))
    assert len(browser.store) == 1
    seen: list[object] = []
    browser.request(lambda s: seen.append(s.get("secret")))
    assert seen == [None]


def test_regenerate_keeps_data_and_kills_the_old_token(browser: Browser) -> None:
    browser.request(set_key("cart", [1]))
    old_cookie = browser.cookie
    outcome = browser.request(lambda s: s.regenerate())
    assert isinstance(outcome, Replace)
    assert outcome.op is Op.REPLACE
    assert browser.cookie != old_cookie
    assert browser.store.load(outcome.old_key) is None
    seen: list[object] = []
    browser.request(lambda s: seen.append(s["cart"]))
    assert seen == [[1]]
    browser.cookie = old_cookie
    browser.request(lambda s: seen.append(s.is_new))
    assert seen[-1] is True


def test_regenerate_keeps_the_absolute_deadline(browser: Browser, clock: FakeClock) -> None:
    first = browser.request(set_key("a", 1))
    clock.advance(60)
    second = browser.request(lambda s: s.regenerate())
    assert isinstance(first, Create)
    assert isinstance(second, Replace)
    assert second.record.absolute_expires_at == first.record.absolute_expires_at


def test_destroy_deletes_server_side_and_expires_the_cookie(browser: Browser) -> None:
    browser.request(set_key("a", 1))
    outcome = browser.request(lambda s: s.destroy())
    assert outcome.op is Op.DELETE
    assert outcome.cookie is not None
    assert outcome.cookie.deletes
    assert len(browser.store) == 0
    assert browser.cookie is None


def test_data_set_after_destroy_goes_into_a_new_session(browser: Browser) -> None:
    browser.request(set_key("a", 1))
    old_cookie = browser.cookie

    def logout(session: Session) -> None:
        session.destroy()
        session.flash("bye")

    outcome = browser.request(logout)
    assert isinstance(outcome, Replace)
    assert browser.cookie != old_cookie
    record = browser.store.load(outcome.key)
    assert record is not None
    assert record.data == {"_flashes": [["message", "bye"]]}


def test_update_of_a_session_deleted_elsewhere_is_not_resurrected(browser: Browser) -> None:
    browser.request(set_key("a", 1))
    assert browser.cookie is not None
    engine = browser.engine
    verified = engine.verify([f"session={browser.cookie}"])
    assert verified is not None
    session = engine.open(verified, browser.store.load(hash_token(verified.token)))
    browser.store.delete(hash_token(verified.token))  # logged out by another request
    session["b"] = 2
    cookie = save(browser.store, engine.finish(session))
    assert len(browser.store) == 0
    assert cookie is not None
    assert cookie.deletes


def test_user_binding_without_data_creates_a_session(browser: Browser) -> None:
    def login(session: Session) -> None:
        session.user_id = "alice"

    outcome = browser.request(login)
    assert isinstance(outcome, Create)
    assert [k for k, _ in browser.store.list_user("alice", 0)] == [outcome.key]


def test_oversized_session_raises_and_writes_nothing(clock: FakeClock) -> None:
    browser = Browser(make_engine(clock, max_size=1024), MemoryStore())
    with pytest.raises(SessionTooLarge, match="'big'") as raised:
        browser.request(set_key("big", "x" * 2000))
    assert raised.value.status == 413
    assert isinstance(raised.value, SessionDataError)
    assert len(browser.store) == 0


def test_stale_signature_is_re_signed_without_store_io(clock: FakeClock) -> None:
    store = MemoryStore()
    old = Browser(SessionEngine(SessionConfig(secret="o" * 32), clock), store)
    old.request(set_key("a", 1))
    rotated = SessionEngine(SessionConfig(secret="n" * 32, previous_secrets=["o" * 32]), clock)
    new = Browser(rotated, store)
    new.cookie = old.cookie
    outcome = new.request(lambda s: s["a"])
    assert outcome.op is Op.NOTHING
    assert outcome.cookie is not None
    assert new.cookie != old.cookie
    assert rotated.verify([f"session={new.cookie}"]) is not None


def test_browser_session_cookie_has_no_max_age(clock: FakeClock) -> None:
    browser = Browser(make_engine(clock, permanent=False), MemoryStore())
    outcome = browser.request(set_key("a", 1))
    assert outcome.cookie is not None
    assert outcome.cookie.max_age is None


def test_permanent_cookie_max_age_follows_the_idle_deadline(browser: Browser) -> None:
    outcome = browser.request(set_key("a", 1))
    assert outcome.cookie is not None
    assert outcome.cookie.max_age == 1800


def test_cookie_attributes_come_from_the_config(clock: FakeClock) -> None:
    engine = SessionEngine(SessionConfig.production(secret=SECRET), clock)
    browser = Browser(engine, MemoryStore())
    outcome = browser.request(set_key("a", 1))
    assert outcome.cookie is not None
    parsed = SetCookie.parse(outcome.cookie.render())
    assert parsed.name == "__Host-session"
    assert parsed.secure
    assert parsed.http_only
    assert parsed.path == "/"
    assert parsed.domain is None
    assert parsed.same_site == "lax"


def test_forged_cookie_is_rejected_before_any_store_read(clock: FakeClock) -> None:
    engine = make_engine(clock)
    assert engine.verify(["session=" + "A" * 43 + "." + "B" * 43]) is None
    assert engine.open(None, None).is_new


def test_verify_tries_each_cookie_of_the_name(clock: FakeClock) -> None:
    engine = make_engine(clock)
    good = engine.cookie_value("T" * 43)
    verified = engine.verify(["session=forged", f"session={good}"])
    assert verified == Verified("T" * 43, False, hash_token("T" * 43), good)


def test_revoked_record_is_never_served(browser: Browser) -> None:
    browser.request(set_key("a", 1))
    assert browser.cookie is not None
    key = hash_token(browser.cookie.split(".")[0])
    record = browser.store.load(key)
    assert record is not None
    browser.store.update(
        key,
        Changes(last_seen=record.last_seen, expires_at=record.expires_at, set={REVOKED_KEY: 1.0}),
    )
    seen: list[bool] = []
    browser.request(lambda s: seen.append(s.is_new))
    assert seen == [True]


def test_regenerate_drops_the_csrf_secret(browser: Browser) -> None:
    browser.request(lambda s: s.update(a=1) or s.set_internal(CSRF_KEY, "old-secret"))
    outcome = browser.request(lambda s: s.regenerate())
    assert isinstance(outcome, Replace)
    assert CSRF_KEY not in outcome.record.data
    assert outcome.record.data == {"a": 1}


def test_regenerate_of_a_session_holding_only_its_csrf_secret_ends_it(browser: Browser) -> None:
    browser.request(lambda s: s.set_internal(CSRF_KEY, "old-secret"))
    outcome = browser.request(lambda s: s.regenerate())
    assert isinstance(outcome, Delete)


def test_replace_record_is_seen_now_so_stores_check_liveness_then(
    browser: Browser, clock: FakeClock
) -> None:
    browser.request(set_key("a", 1))
    clock.advance(600)
    outcome = browser.request(lambda s: s.regenerate())
    assert isinstance(outcome, Replace)
    assert outcome.record.last_seen == clock()


def test_regenerate_of_a_session_deleted_elsewhere_creates_nothing(browser: Browser) -> None:
    browser.request(set_key("a", 1))
    assert browser.cookie is not None
    engine = browser.engine
    verified = engine.verify([f"session={browser.cookie}"])
    assert verified is not None
    session = engine.open(verified, browser.store.load(verified.key))
    browser.store.delete(verified.key)  # logged out by another request
    session.regenerate()
    cookie = save(browser.store, engine.finish(session))
    assert cookie is not None
    assert cookie.deletes
    assert len(browser.store) == 0


class CountingSigner:
    """Wraps the engine's signer and counts the values it MACs."""

    def __init__(self, engine: SessionEngine) -> None:
        self.inner = engine._signer
        self.verified: list[str] = []

    def sign(self, token: str) -> str:
        return self.inner.sign(token)

    def verify(self, value: str) -> Verified | None:
        self.verified.append(value)
        return self.inner.verify(value)


def test_a_verified_cookie_value_is_not_maced_again(clock: FakeClock) -> None:
    engine = make_engine(clock)
    signer = CountingSigner(engine)
    engine._signer = signer  # type: ignore[assignment]  # counts calls, same answers
    value = engine.cookie_value("t" * 43)
    first = engine.verify([f"session={value}"])
    again = engine.verify([f"session={value}"])
    assert first is not None
    assert again == first
    assert signer.verified == [value]


def test_a_forged_cookie_value_is_maced_every_time(clock: FakeClock) -> None:
    engine = make_engine(clock)
    signer = CountingSigner(engine)
    engine._signer = signer  # type: ignore[assignment]  # counts calls, same answers
    value = engine.cookie_value("t" * 43)
    forged = value[:-1] + ("A" if value[-1] != "A" else "B")
    assert engine.verify([f"session={forged}"]) is None
    assert engine.verify([f"session={forged}"]) is None
    assert signer.verified == [forged, forged]


def test_the_verified_values_kept_are_bounded(clock: FakeClock) -> None:
    from websession.core.engine import VERIFIED_KEPT

    engine = make_engine(clock)
    for n in range(VERIFIED_KEPT + 5):
        value = engine.cookie_value(f"{n:043d}")
        assert engine.verify([f"session={value}"]) is not None
    assert len(engine._verified) <= VERIFIED_KEPT
