"""Property-based fuzzing of the parsers and verifiers that read attacker-controlled bytes:
the cookie parser and Set-Cookie codec, the token signer, the CSRF token and origin
checks, the record codec and the encrypted cookie decoder. Round trips hold, and
garbage gets None (or the one documented error), never anything else."""

from __future__ import annotations

import base64
import contextlib
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from websession.backends.cookie import CookieCodec, Payload
from websession.config import SessionConfig
from websession.core.cookies import SetCookie, cookie_values, parse_cookie_header
from websession.core.csrf import (
    CSRFPolicy,
    Origin,
    mask,
    parse_host,
    parse_origin,
    session_token,
    token_from_form,
    unmask,
)
from websession.core.session import Session
from websession.core.signing import SIGNED_LENGTH, Signer
from websession.core.tokens import TOKEN_LENGTH
from websession.errors import StoreError
from websession.stores.codec import decode_record, encode_record
from websession.types import Record

FUZZ = settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
CONFIG = SessionConfig(secret="z" * 32, previous_secrets=["y" * 32])
SIGNER = Signer(CONFIG.verifying_secrets)
CODEC = CookieCodec(CONFIG.verifying_secrets, "session")
B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
COOKIE_NAME_CHARS = "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
COOKIE_VALUE_CHARS = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) not in '",;\\')

tokens = st.text(alphabet=B64, min_size=TOKEN_LENGTH, max_size=TOKEN_LENGTH)
names = st.text(alphabet=COOKIE_NAME_CHARS, min_size=1, max_size=20).filter(lambda n: "=" not in n)
values = st.text(alphabet=COOKIE_VALUE_CHARS, max_size=60).filter(
    lambda v: not (len(v) >= 2 and v[0] == '"' and v[-1] == '"')
)
text = st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=40)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4),
    max_leaves=12,
)
times = st.floats(min_value=0, max_value=4e9, allow_nan=False)


# -- cookie parser and Set-Cookie codec --------------------------------------------


@FUZZ
@given(st.lists(st.text(max_size=200), max_size=5), st.text(max_size=10))
def test_cookie_values_never_raises_on_garbage(headers: list[str], name: str) -> None:
    found = cookie_values(headers, name or "session")
    assert all(isinstance(v, str) for v in found)


@FUZZ
@given(st.dictionaries(names, values, min_size=1, max_size=8))
def test_cookie_values_round_trip(cookies: dict[str, str]) -> None:
    header = "; ".join(f"{k}={v}" for k, v in cookies.items())
    for name, value in cookies.items():
        assert cookie_values([header], name) == [value]
    assert parse_cookie_header(header) == cookies


@FUZZ
@given(st.text(max_size=300))
def test_parse_cookie_header_never_raises(header: str) -> None:
    for key in parse_cookie_header(header):
        assert key
        assert key == key.strip()


@FUZZ
@given(
    names,
    values,
    st.none() | st.integers(min_value=-1, max_value=10**8),
    st.booleans(),
    st.booleans(),
    st.sampled_from([None, "lax", "strict", "none"]),
)
def test_set_cookie_render_parse_round_trip(
    name: str, value: str, max_age: int | None, secure: bool, http_only: bool, same_site: Any
) -> None:
    cookie = SetCookie(
        name, value, max_age=max_age, secure=secure, http_only=http_only, same_site=same_site
    )
    assert SetCookie.parse(cookie.render()) == cookie


@FUZZ
@given(st.text(max_size=200))
def test_set_cookie_parse_raises_only_value_error(header: str) -> None:
    with contextlib.suppress(ValueError):
        SetCookie.parse(header)


# -- signed tokens -----------------------------------------------------------------


@FUZZ
@given(tokens)
def test_signed_tokens_round_trip(token: str) -> None:
    verified = SIGNER.verify(SIGNER.sign(token))
    assert verified is not None
    assert verified.token == token
    assert not verified.stale


@FUZZ
@given(tokens, st.integers(min_value=0, max_value=SIGNED_LENGTH - 1), st.sampled_from(B64 + "."))
def test_any_changed_character_breaks_the_signature(token: str, index: int, char: str) -> None:
    signed = SIGNER.sign(token)
    if signed[index] == char:
        return
    assert SIGNER.verify(signed[:index] + char + signed[index + 1 :]) is None


@FUZZ
@given(st.text(max_size=120) | st.text(alphabet=B64 + ".", min_size=87, max_size=87))
def test_token_verifier_returns_none_for_garbage(value: str) -> None:
    assert SIGNER.verify(value) is None


# -- CSRF tokens and origins ---------------------------------------------------------


@FUZZ
@given(st.binary(min_size=32, max_size=32))
def test_csrf_mask_round_trips(secret: bytes) -> None:
    first, second = mask(secret), mask(secret)
    assert unmask(first) == unmask(second) == secret


@FUZZ
@given(st.none() | st.integers() | st.binary(max_size=100) | st.text(max_size=200))
def test_csrf_check_never_raises_and_refuses_garbage(token: object) -> None:
    session = Session()
    session_token(session)
    decision = CSRFPolicy().check_token(session, token)
    assert not decision.allowed


@FUZZ
@given(st.text(max_size=100))
def test_parse_origin_never_raises_and_reparses(value: str) -> None:
    origin = parse_origin(value)
    if origin is not None:
        assert parse_origin(str(origin)) == origin


@FUZZ
@given(
    st.sampled_from(["http", "https"]),
    st.from_regex(r"\A[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?(\.[a-z0-9]{1,10}){0,3}\Z"),
    st.integers(min_value=1, max_value=65535),
)
def test_origins_round_trip(scheme: str, host: str, port: int) -> None:
    origin = Origin(scheme, host, port)
    assert parse_origin(str(origin)) == origin
    assert parse_host(f"{host}:{port}", scheme) == origin


@FUZZ
@given(st.text(max_size=60), st.binary(max_size=400))
def test_form_token_search_never_raises(content_type: str, body: bytes) -> None:
    for kind in (
        content_type,
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=b",
    ):
        found = token_from_form(kind, body)
        assert found is None or isinstance(found, str)


# -- record codec and encrypted cookies ----------------------------------------------


def record_of(data: dict[str, Any], user: str | None, t: list[float]) -> Record:
    return Record(data, t[0], t[1], t[2], t[3], user)


@FUZZ
@given(
    st.dictionaries(text, json_values, max_size=6),
    st.none() | text.filter(bool),
    st.lists(times, min_size=4, max_size=4),
)
def test_record_codec_round_trips(data: dict[str, Any], user: str | None, t: list[float]) -> None:
    record = record_of(data, user, t)
    assert decode_record(encode_record(record)) == record


@FUZZ
@given(st.binary(max_size=200) | st.text(max_size=200))
def test_record_codec_raises_only_store_error(raw: bytes | str) -> None:
    with contextlib.suppress(StoreError):
        decode_record(raw)


@FUZZ
@given(
    st.dictionaries(text, json_values, max_size=6),
    st.none() | text.filter(bool),
    st.lists(times, min_size=5, max_size=5),
    st.text(alphabet=B64, min_size=22, max_size=22),
)
def test_encrypted_cookie_round_trips(
    data: dict[str, Any], user: str | None, t: list[float], sid: str
) -> None:
    payload = Payload(record_of(data, user, t), sid, t[4])
    assert CODEC.open(CODEC.seal(payload)) == payload


@FUZZ
@given(st.text(max_size=400))
def test_encrypted_cookie_decoder_returns_none_for_garbage_text(value: str) -> None:
    assert CODEC.open(value) is None


@FUZZ
@given(st.sampled_from([b"\x01", b"\x02"]), st.binary(max_size=300))
def test_encrypted_cookie_decoder_returns_none_for_garbage_under_a_real_key_id(
    version: bytes, tail: bytes
) -> None:
    kid = CODEC._current
    value = base64.urlsafe_b64encode(version + kid + tail).rstrip(b"=").decode()
    assert CODEC.open(value) is None


@pytest.mark.parametrize("cut", [1, 10, 30, 60])
def test_encrypted_cookie_truncated_anywhere_is_refused(cut: int) -> None:
    sealed = CODEC.seal(Payload(Record({"a": 1}, 1, 2, 3, 4), "s" * 22, 1))
    assert CODEC.open(sealed[:-cut]) is None
