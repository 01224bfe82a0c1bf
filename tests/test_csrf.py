"""The sans-IO CSRF core: origins, header decisions, token masking, form parsing."""

from __future__ import annotations

import pytest

from websession.core.csrf import (
    TOKEN_LENGTH,
    CSRFPolicy,
    Origin,
    Verdict,
    mask,
    parse_host,
    parse_origin,
    rotate,
    session_secret,
    session_token,
    token_from_form,
    unmask,
)
from websession.core.session import CSRF_KEY, Session
from websession.errors import ConfigError

OWN = Origin("https", "app.example", 443)


def test_parse_origin_normalizes_case_and_default_port() -> None:
    assert parse_origin("HTTPS://App.Example") == OWN
    assert parse_origin("https://app.example:443") == OWN
    assert parse_origin("http://localhost:8000") == Origin("http", "localhost", 8000)
    assert parse_origin("http://[::1]:8080") == Origin("http", "[::1]", 8080)


@pytest.mark.parametrize(
    "value",
    [
        "null",
        "",
        "https://",
        "https://app.example/",
        "https://app.example/path",
        "https://user@app.example",
        "https://app.example:0",
        "https://app.example:65536",
        "https://app.example:+443",
        "https://app.example:44 3",
        "https://app.exämple",
        "https://app.example?x=1",
        "https://app.example#f",
        "//app.example",
        "https://[::1",
        "https://[zz::1]",
        "https://app.example\r\nX-Injected: 1",
        "https://" + "a" * 600,
        "1http://app.example",
    ],
)
def test_parse_origin_refuses_what_is_not_an_origin(value: str) -> None:
    assert parse_origin(value) is None


def test_parse_host_uses_the_scheme_for_the_default_port() -> None:
    assert parse_host("App.Example", "https") == OWN
    assert parse_host("app.example:8443", "https") == Origin("https", "app.example", 8443)
    assert parse_host("bad host", "https") is None


def test_policy_refuses_malformed_trusted_origins() -> None:
    for bad in ("https://*.example.com", "https://a.example/path", "a.example", "null"):
        with pytest.raises(ConfigError, match="scheme://host"):
            CSRFPolicy([bad])
    with pytest.raises(ConfigError, match="list"):
        CSRFPolicy("https://a.example")


def test_safe_methods_are_always_allowed() -> None:
    policy = CSRFPolicy()
    for method in ("GET", "head", "OPTIONS", "TRACE"):
        decision = policy.check_headers(method, "cross-site", "https://evil.example", OWN)
        assert decision.verdict is Verdict.ALLOW


def test_sec_fetch_site_same_origin_allows() -> None:
    assert CSRFPolicy().check_headers("POST", "same-origin", None, OWN).allowed


@pytest.mark.parametrize("site", ["cross-site", "same-site", "Cross-Site"])
def test_sec_fetch_site_cross_rejects_untrusted_origins(site: str) -> None:
    decision = CSRFPolicy().check_headers("POST", site, "https://evil.example", OWN)
    assert decision.verdict is Verdict.REJECT
    assert decision.reason == "cross_site"


def test_sec_fetch_site_cross_allows_a_trusted_origin() -> None:
    policy = CSRFPolicy(["https://admin.example"])
    assert policy.check_headers("POST", "cross-site", "https://admin.example", OWN).allowed


def test_trusted_origin_compares_scheme_and_port() -> None:
    policy = CSRFPolicy(["https://admin.example"])
    for other in (
        "http://admin.example",
        "https://admin.example:8443",
        "https://admin.example.evil",
    ):
        assert policy.check_headers("POST", None, other, OWN).verdict is Verdict.REJECT


def test_origin_equal_to_own_origin_allows() -> None:
    assert CSRFPolicy().check_headers("POST", None, "https://app.example:443", OWN).allowed


@pytest.mark.parametrize("origin", ["null", "https://evil.example", "http://app.example", "junk"])
def test_other_origins_reject(origin: str) -> None:
    decision = CSRFPolicy().check_headers("POST", None, origin, OWN)
    assert decision.verdict is Verdict.REJECT
    assert decision.reason == "origin"


@pytest.mark.parametrize("site", [None, "none", "weird-value"])
def test_without_origin_the_headers_do_not_decide(site: str | None) -> None:
    assert CSRFPolicy().check_headers("POST", site, None, OWN).verdict is Verdict.UNDECIDED


def test_require_token_leaves_same_origin_undecided() -> None:
    policy = CSRFPolicy(require_token=True)
    assert policy.check_headers("POST", "same-origin", None, OWN).verdict is Verdict.UNDECIDED
    assert policy.check_headers("POST", "cross-site", None, OWN).verdict is Verdict.REJECT


def test_masked_tokens_differ_every_time_and_unmask_to_the_secret() -> None:
    session = Session()
    first, second = session_token(session), session_token(session)
    assert first != second
    assert len(first) == TOKEN_LENGTH
    secret = session_secret(session)
    assert secret is not None
    assert unmask(first) == unmask(second) == secret


def test_token_secret_is_created_once_and_marks_the_session_modified() -> None:
    session = Session()
    session_token(session)
    stored = session.get_internal(CSRF_KEY)
    session_token(session)
    assert session.get_internal(CSRF_KEY) == stored
    assert session.modified


def test_check_token_accepts_a_token_of_the_session() -> None:
    session = Session()
    assert CSRFPolicy().check_token(session, session_token(session)).allowed


def test_check_token_refuses_a_token_of_another_session() -> None:
    other = Session()
    decision = CSRFPolicy().check_token(Session(), session_token(other))
    assert decision.reason == "token_invalid"


def test_check_token_refuses_the_raw_secret() -> None:
    session = Session()
    session_token(session)
    raw = session.get_internal(CSRF_KEY)
    assert CSRFPolicy().check_token(session, raw).reason == "token_invalid"


@pytest.mark.parametrize("token", [None, ""])
def test_check_token_reports_a_missing_token(token: str | None) -> None:
    assert CSRFPolicy().check_token(Session(), token).reason == "token_missing"


@pytest.mark.parametrize(
    "token",
    [123, b"bytes", ["list"], "A" * (TOKEN_LENGTH - 1), "A" * (TOKEN_LENGTH + 1), "*" * 86],
)
def test_check_token_refuses_tokens_of_the_wrong_type_or_shape(token: object) -> None:
    session = Session()
    session_token(session)
    assert CSRFPolicy().check_token(session, token).reason == "token_invalid"


def test_a_malformed_stored_secret_never_verifies() -> None:
    session = Session()
    session.set_internal(CSRF_KEY, "not-a-secret")
    assert session_secret(session) is None
    assert CSRFPolicy().check_token(session, mask(b"\0" * 32)).reason == "token_invalid"


def test_rotate_drops_the_secret() -> None:
    session = Session()
    old = session_token(session)
    rotate(session)
    assert CSRFPolicy().check_token(session, old).reason == "token_invalid"


def test_regenerate_drops_the_secret_at_once() -> None:
    session = Session()
    old = session_token(session)
    session.regenerate()
    assert session.get_internal(CSRF_KEY) is None
    new = session_token(session)
    assert CSRFPolicy().check_token(session, old).reason == "token_invalid"
    assert CSRFPolicy().check_token(session, new).allowed


def test_destroy_drops_the_secret() -> None:
    session = Session()
    old = session_token(session)
    session.destroy()
    assert CSRFPolicy().check_token(session, old).reason == "token_invalid"


# -- form bodies ---------------------------------------------------------------------

FORM = "application/x-www-form-urlencoded"


def test_token_from_urlencoded_form() -> None:
    body = b"a=1&_csrf=abc%2Ddef&_csrf=second"
    assert token_from_form(FORM, body) == "abc-def"
    assert token_from_form(FORM + "; charset=utf-8", body) == "abc-def"


def test_token_from_urlencoded_form_without_the_field() -> None:
    assert token_from_form(FORM, b"a=1&b=2&_csrf") is None
    assert token_from_form(FORM, b"_csrf=%FF%FE") is None


def multipart(parts: list[tuple[str, bytes]], boundary: str = "XyZ") -> bytes:
    out = b""
    for name, value in parts:
        out += (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
            + value
            + b"\r\n"
        )
    return out + f"--{boundary}--\r\n".encode()


def test_token_from_multipart_form() -> None:
    body = multipart([("name", b"x"), ("_csrf", b"tok-en")])
    assert token_from_form('multipart/form-data; boundary="XyZ"', body) == "tok-en"


def test_token_from_multipart_form_ignores_fields_that_only_contain_the_name() -> None:
    body = multipart([("not_csrf", b"x"), ("_csrf_x", b"y")])
    assert token_from_form("multipart/form-data; boundary=XyZ", body) is None


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("multipart/form-data", b"--XyZ\r\n"),
        ("multipart/form-data; boundary=", b"--\r\n"),
        ("multipart/form-data; boundary=XyZ", b"--XyZ\r\nContent-Disposition: form-data"),
        ("multipart/form-data; boundary=XyZ", b"garbage"),
        ("multipart/form-data; boundary=" + "b" * 300, b""),
        ("application/json", b'{"_csrf": "x"}'),
        ("text/plain", b"_csrf=x"),
    ],
)
def test_token_from_malformed_forms_is_none(content_type: str, body: bytes) -> None:
    assert token_from_form(content_type, body) is None
