"""The encrypted cookie's format: a key per message (no AES-GCM message limit under one
master key), and cookies of the previous format still open until they expire."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from datetime import timedelta
from typing import Any

import httpx
import orjson
import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from websession import SessionConfig, SessionMiddleware, SetCookie
from websession.backends.cookie import CookieBackend, CookieCodec, Payload
from websession.config import Secret
from websession.core.signing import derive_key
from websession.testing import FakeClock
from websession.types import Record

OLD, NEW = "o" * 32, "n" * 32
CONFIG = SessionConfig(
    secret=NEW,
    secure=False,
    idle_timeout=timedelta(minutes=30),
    absolute_timeout=timedelta(hours=2),
)
PAYLOAD = Payload(Record({"cart": [1, 2]}, 1.0, 2.0, 3.0, 4.0, "alice"), "S" * 22, 1.5)
# Sealed by the version 1 codec (random 96-bit nonce under the master key), kept verbatim:
V1_UNDER_NEW = (
    "AUghHqgJPEdgJJcXdNAltmRL14pRAIVobExsVvSpaXNRp26iJWiDpntYAvYq3fLSYfEwSETZqPZ6Xof42Qa6"
    "QsgIy8B7FK55Hv-FWXxn_FN84Rgn73zt6uLkAg5xwjMwmIZ24dfRF7tHsoP_Q4VCJ91FIBeC5SzQilJW7oYL"
    "XMr3QjEZig8"
)
V1_UNDER_OLD = (
    "AW-uwir3Sv5gXIsuj3s2Nep8tUs42efiUp3COdCv3n58japrXxyoliRz4A1Hz-f-PWUwHuysWRxEuHYAROxi"
    "H1wH4i4lBZbPNGQ5PJ8tv0y8L4SImyU_9GIe8NuVeUCgXm4WWqDYyML1CS29cD7MW31DNu_nzi2x1blevTk3"
    "BTnRJxYsyR0"
)


def codec(*secrets: str, name: str = "session") -> CookieCodec:
    return CookieCodec(
        CONFIG.replace(secret=secrets[0], previous_secrets=secrets[1:]).verifying_secrets, name
    )


def raw(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def key_id(secret: str) -> bytes:
    master = derive_key(Secret(secret), b"cookie-aes-256-gcm")
    return hmac.new(master, b"key-id", hashlib.sha256).digest()[:4]


def seal_v1(secret: str, plain: bytes, name: str = "session") -> str:
    """A cookie in the version 1 format, as the previous release sealed it."""
    header = b"\x01" + key_id(secret) + (nonce := os.urandom(12))
    cipher = AESGCM(derive_key(Secret(secret), b"cookie-aes-256-gcm"))
    return b64(header + cipher.encrypt(nonce, plain, header[:5] + name.encode()))


def plain_of(payload: Payload) -> bytes:
    record = payload.record
    return orjson.dumps(
        {
            "d": record.data,
            "c": record.created_at,
            "s": record.last_seen,
            "e": record.expires_at,
            "a": record.absolute_expires_at,
            "u": record.user_id,
            "i": payload.sid,
            "t": payload.issued_at,
        }
    )


# -- the current format --------------------------------------------------------------


def test_a_cookie_is_version_2_with_a_192_bit_salt_and_grows_by_12_bytes() -> None:
    sealed = raw(codec(NEW).seal(PAYLOAD))
    assert sealed[:1] == b"\x02"
    assert sealed[1:5] == key_id(NEW)
    assert len(sealed) == 1 + 4 + 24 + len(plain_of(PAYLOAD)) + 16
    assert len(sealed) - len(raw(V1_UNDER_NEW)) == 12


def test_each_cookie_is_sealed_under_its_own_hmac_derived_key() -> None:
    sealed = raw(codec(NEW).seal(PAYLOAD))
    master = derive_key(Secret(NEW), b"cookie-aes-256-gcm/per-message")
    salt = sealed[5:29]
    key = hmac.new(master, salt, hashlib.sha256).digest()
    opened = AESGCM(key).decrypt(bytes(12), sealed[29:], sealed[:5] + b"session")
    assert opened == plain_of(PAYLOAD)


def test_two_seals_use_two_salts_and_so_two_keys() -> None:
    c = codec(NEW)
    salts = {raw(c.seal(PAYLOAD))[5:29] for _ in range(50)}
    assert len(salts) == 50


def test_the_master_key_alone_does_not_open_a_cookie() -> None:
    sealed = raw(codec(NEW).seal(PAYLOAD))
    master = derive_key(Secret(NEW), b"cookie-aes-256-gcm/per-message")
    for nonce in (bytes(12), sealed[5:17]):
        with pytest.raises(InvalidTag):
            AESGCM(master).decrypt(nonce, sealed[29:], sealed[:5] + b"session")


def test_a_salt_moved_from_another_cookie_is_refused() -> None:
    c = codec(NEW)
    one, two = raw(c.seal(PAYLOAD)), raw(c.seal(PAYLOAD))
    assert c.open(b64(one[:5] + two[5:29] + one[29:])) is None


def test_a_version_2_cookie_relabelled_version_1_is_refused() -> None:
    sealed = bytearray(raw(codec(NEW).seal(PAYLOAD)))
    sealed[0] = 1
    assert codec(NEW).open(b64(bytes(sealed))) is None


def test_an_unknown_version_is_refused() -> None:
    sealed = bytearray(raw(codec(NEW).seal(PAYLOAD)))
    sealed[0] = 3
    assert codec(NEW).open(b64(bytes(sealed))) is None


def test_key_rotation_opens_the_previous_secrets_cookie_as_stale() -> None:
    opened = codec(NEW, OLD).open(codec(OLD).seal(PAYLOAD))
    assert opened is not None
    assert opened.stale
    assert opened.record == PAYLOAD.record
    assert codec(NEW).open(codec(OLD).seal(PAYLOAD)) is None


# -- the version 1 format ------------------------------------------------------------


def test_a_version_1_cookie_still_opens_and_is_marked_for_resealing() -> None:
    opened = codec(NEW).open(V1_UNDER_NEW)
    assert opened is not None
    assert (opened.record, opened.sid, opened.issued_at) == (
        PAYLOAD.record,
        PAYLOAD.sid,
        PAYLOAD.issued_at,
    )
    assert opened.stale


def test_a_version_1_cookie_of_a_previous_secret_opens() -> None:
    opened = codec(NEW, OLD).open(V1_UNDER_OLD)
    assert opened is not None
    assert opened.record == PAYLOAD.record


def test_a_version_1_cookie_of_a_dropped_secret_is_refused() -> None:
    assert codec(NEW).open(V1_UNDER_OLD) is None


def test_a_version_1_cookie_under_another_cookie_name_is_refused() -> None:
    assert codec(NEW, name="other").open(V1_UNDER_NEW) is None


def test_every_tampered_byte_of_a_version_1_cookie_is_refused() -> None:
    c = codec(NEW)
    sealed = raw(V1_UNDER_NEW)
    for index in range(len(sealed)):
        forged = bytearray(sealed)
        forged[index] ^= 0x01
        assert c.open(b64(bytes(forged))) is None


async def test_a_version_1_cookie_is_served_and_resealed_in_version_2() -> None:
    clock = FakeClock()
    now = clock()
    record = Record({"color": "blue"}, now, now, now + 1800, now + 7200, None)
    old = seal_v1(NEW, plain_of(Payload(record, "A" * 22, now)))

    async def read(request: Request) -> Response:
        return JSONResponse(dict(request.session))

    app = Starlette(routes=[Route("/read", read)])
    app.add_middleware(SessionMiddleware, store=CookieBackend(CONFIG, clock=clock))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        response = await client.get("/read", headers={"cookie": f"session={old}"})
        assert response.json() == {"color": "blue"}
        fresh = SetCookie.parse(response.headers["set-cookie"])
        assert raw(fresh.value)[:1] == b"\x02"
        client.cookies.clear()
        again = await client.get("/read", headers={"cookie": f"session={fresh.value}"})
        assert again.json() == {"color": "blue"}
        assert "set-cookie" not in again.headers


def test_sealing_a_payload_round_trips_every_value() -> None:
    data: dict[str, Any] = {"n": None, "f": 1.5, "s": "é", "l": [1, {"x": True}]}
    payload = Payload(Record(data, 1.0, 2.0, 3.0, 4.0, None), "B" * 22, 1.0)
    assert codec(NEW).open(codec(NEW).seal(payload)) == payload
