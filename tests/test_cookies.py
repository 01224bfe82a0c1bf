"""Cookie codec, tokens and signing."""

from __future__ import annotations

import base64
import hmac
import time
from datetime import UTC, datetime

import pytest

from websession import Secret
from websession.core.cookies import SetCookie, cookie_values, parse_cookie_header
from websession.core.signing import Signer, derive_key
from websession.core.tokens import TOKEN_LENGTH, hash_token, new_token

A = Secret("a" * 32)
B = Secret("b" * 32)


def test_tokens_carry_256_bits_and_are_unique() -> None:
    tokens = {new_token() for _ in range(1000)}
    assert len(tokens) == 1000
    assert all(len(t) == TOKEN_LENGTH for t in tokens)


def test_hash_token_is_sha256_hex_and_not_the_token() -> None:
    token = new_token()
    key = hash_token(token)
    assert len(key) == 64
    assert token not in key
    assert hash_token(token) == key


def test_signed_value_verifies() -> None:
    signer = Signer([A])
    token = new_token()
    verified = signer.verify(signer.sign(token))
    assert verified is not None
    assert verified.token == token
    assert not verified.stale


def test_signature_is_hmac_sha256_under_the_derived_key() -> None:
    """The reused keyed HMAC gives exactly RFC 2104's value, value after value."""
    signer = Signer([A])
    key = derive_key(A, b"session-cookie")
    for token in (new_token(), new_token(), "T" * TOKEN_LENGTH):
        expected = hmac.digest(key, token.encode(), "sha256")
        signature = signer.sign(token).split(".")[1]
        assert base64.urlsafe_b64decode(signature + "=") == expected
        verified = signer.verify(signer.sign(token))
        assert verified is not None
        assert verified.key == hash_token(token)


def test_previous_secret_verifies_and_is_marked_stale() -> None:
    token = new_token()
    old_value = Signer([B]).sign(token)
    verified = Signer([A, B]).verify(old_value)
    assert verified is not None
    assert verified.stale


def test_foreign_secret_is_rejected() -> None:
    assert Signer([A]).verify(Signer([B]).sign(new_token())) is None


@pytest.mark.parametrize(
    "mutate",
    [
        lambda v: v[:-1] + ("A" if v[-1] != "A" else "B"),
        lambda v: ("A" if v[0] != "A" else "B") + v[1:],
        lambda v: v[:-1],
        lambda v: v + "A",
        lambda v: v.replace(".", "-"),
        lambda v: "",
        lambda v: "../../etc/passwd",
        lambda v: v[:43] + "." + "=" * 43,
    ],
)
def test_tampered_values_are_rejected(mutate: object) -> None:
    signer = Signer([A])
    value = signer.sign(new_token())
    assert signer.verify(mutate(value)) is None  # type: ignore[operator]


def test_cookie_values_matches_only_the_exact_name() -> None:
    headers = ["xsession=1; session_x=2; session=3; Session=4"]
    assert cookie_values(headers, "session") == ["3"]


def test_cookie_values_reads_several_headers_and_keeps_order() -> None:
    assert cookie_values(["a=1; session=first", "session=second"], "session") == [
        "first",
        "second",
    ]


def test_cookie_values_skips_malformed_pairs_without_losing_others() -> None:
    headers = ['garbage; =x; ;;; "session"; session="quoted"; other=1']
    assert cookie_values(headers, "session") == ["quoted"]


def test_cookie_parsing_is_linear_for_huge_headers() -> None:
    header = "; ".join(f"c{i}=v{i}" for i in range(50_000)) + "; session=found"
    started = time.perf_counter()
    values = cookie_values([header], "session")
    elapsed = time.perf_counter() - started
    assert values == []  # beyond the 16 KiB read budget: ignored, not parsed
    assert elapsed < 1.0


def test_parse_cookie_header_first_wins() -> None:
    assert parse_cookie_header("a=1; b=2; a=3") == {"a": "1", "b": "2"}


def test_set_cookie_renders_every_attribute() -> None:
    header = SetCookie(
        "__Host-s",
        "v",
        path="/",
        max_age=60,
        expires=datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC),
        secure=True,
        http_only=True,
        same_site="strict",
        partitioned=True,
    ).render()
    assert header == (
        "__Host-s=v; Path=/; Max-Age=60; Expires=Wed, 02 Jan 2030 03:04:05 GMT; "
        "Secure; HttpOnly; SameSite=Strict; Partitioned"
    )


def test_set_cookie_round_trips_through_parse() -> None:
    cookie = SetCookie("s", "abc.def", domain="example.com", max_age=0, same_site="lax")
    assert SetCookie.parse(cookie.render()) == cookie
    assert SetCookie.parse(cookie.render()).deletes


@pytest.mark.parametrize("value", ["a;b", "a b", 'a"b', "a\r\nSet-Cookie: x=y", "é"])
def test_set_cookie_refuses_values_a_cookie_cannot_carry(value: str) -> None:
    with pytest.raises(ValueError, match="cookie value"):
        SetCookie("s", value)


def test_with_value_keeps_the_attributes_and_changes_value_and_max_age() -> None:
    base = SetCookie("s", "", domain="example.com", max_age=0, secure=True, same_site="lax")
    cookie = base.with_value("abc.def", 60)
    assert cookie == SetCookie(
        "s", "abc.def", domain="example.com", max_age=60, secure=True, same_site="lax"
    )
    assert hash(cookie) == hash(base.with_value("abc.def", 60))  # frozen, hashable
    assert base.value == ""


@pytest.mark.parametrize("value", ["a;b", "a b", 'a"b', "a\r\nSet-Cookie: x=y", "é", "a\\b"])
def test_with_value_refuses_values_a_cookie_cannot_carry(value: str) -> None:
    with pytest.raises(ValueError, match="cookie value"):
        SetCookie("s", "v").with_value(value, None)


def test_set_cookie_refuses_header_injection_in_path() -> None:
    with pytest.raises(ValueError, match="path"):
        SetCookie("s", "v", path="/\r\nX: y")
