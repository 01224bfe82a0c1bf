"""Encryption at rest (``SessionConfig.encrypt_at_rest``): sealing per value, keys from
the token and the secret, rotation, mixed stores, patches, over the store backend."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from tests.conftest import store_url
from tests.spy import SpyStore
from websession import Session, SessionConfig, SessionMiddleware, open_async_store
from websession.backends import AsyncStoreBackend, StoreBackend
from websession.config import Secret
from websession.core.lifecycle import REVOKED_KEY
from websession.core.sealing import PREFIX, READABLE_KEYS, Sealer, has_sealed
from websession.core.session import CSRF_KEY, DEVICE_KEY, PERMANENT_KEY
from websession.core.tokens import hash_token, new_token
from websession.stores import MemoryStore
from websession.stores.base import AsyncStore
from websession.types import Changes, SessionKey

SECRET = "s" * 32
OLD_SECRET = "o" * 32
CONFIG = SessionConfig(secret=SECRET, secure=False, encrypt_at_rest=True)
PLAIN = CONFIG.replace(encrypt_at_rest=False)


def sealer(*secrets: str) -> Sealer:
    return Sealer([Secret(s) for s in secrets or (SECRET,)])


def sealed_strings(data: Mapping[str, Any]) -> list[str]:
    return [v for v in data.values() if type(v) is str and v.startswith(PREFIX)]


# -- the sealed value ----------------------------------------------------------------------


def test_a_sealed_value_opens_with_its_token_and_key() -> None:
    token = new_token()
    key = hash_token(token)
    data = {"cart": [1, {"sku": "é"}], "n": 3, "s": "text", "none": None}
    sealed = sealer().seal_data(data, token, key)
    assert all(type(v) is str and v.startswith(PREFIX) for v in sealed.values())
    assert sealer().open_data(sealed, token, key) == data


def test_each_value_gets_a_fresh_nonce() -> None:
    token = new_token()
    key = hash_token(token)
    first = sealer().seal_data({"a": 1}, token, key)
    second = sealer().seal_data({"a": 1}, token, key)
    assert first["a"] != second["a"]


def test_the_envelope_is_version_key_id_nonce_and_ciphertext() -> None:
    token = new_token()
    raw = base64.b64decode(sealer().seal_data({"a": 1}, token, hash_token(token))["a"][11:])
    prk = hmac.new(b"websession/at-rest/v1", SECRET.encode(), hashlib.sha256).digest()
    kid = hmac.new(prk, b"key-id\x01", hashlib.sha256).digest()[:4]
    assert raw[:1] == b"\x01"
    assert raw[1:5] == kid
    assert len(raw) == 1 + 4 + 12 + len(b"1") + 16


def test_the_session_key_is_hkdf_sha256_of_the_secret_and_token() -> None:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    token = new_token()
    key = hash_token(token)
    hkdf = HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=b"websession/at-rest/v1",
        info=b"session:" + token.encode(),
    )
    aes = AESGCM(hkdf.derive(SECRET.encode()))
    raw = base64.b64decode(sealer().seal_data({"name": "v"}, token, key)["name"][len(PREFIX) :])
    aad = raw[:5] + b"\x00" + key.encode() + b"\x00name"
    assert aes.decrypt(raw[5:17], raw[17:], aad) == b'"v"'


def test_a_value_moved_to_another_field_does_not_open(caplog: pytest.LogCaptureFixture) -> None:
    token = new_token()
    key = hash_token(token)
    sealed = sealer().seal_data({"role": "user", "admin": False}, token, key)
    swapped = {"role": sealed["admin"], "admin": sealed["role"]}
    with caplog.at_level(logging.WARNING, "websession.sealing"):
        assert sealer().open_data(swapped, token, key) == {}
    assert "2 sealed value(s)" in caplog.text


def test_a_value_moved_to_another_record_does_not_open() -> None:
    token = new_token()
    sealed = sealer().seal_data({"a": 1}, token, hash_token(token))
    other = hash_token(new_token())
    assert sealer().open_data(sealed, token, other) == {}


def test_another_token_opens_nothing() -> None:
    token = new_token()
    key = hash_token(token)
    sealed = sealer().seal_data({"a": 1}, token, key)
    assert sealer().open_data(sealed, new_token(), key) == {}


def test_a_plain_string_that_only_looks_sealed_is_kept() -> None:
    token = new_token()
    data = {"a": PREFIX + "not base64!", "b": PREFIX + "AAAA", "c": PREFIX}
    assert sealer().open_data(data, token, hash_token(token)) == data


def test_readable_keys_stay_plain() -> None:
    token = new_token()
    data = {REVOKED_KEY: 1.0, DEVICE_KEY: {"ip": "10.0.0.1"}, PERMANENT_KEY: False}
    data |= {CSRF_KEY: "csrf-secret", "_flashes": [["message", "hi"]]}
    sealed = sealer().seal_data(data, token, hash_token(token))
    assert {k for k, v in sealed.items() if v == data[k]} == READABLE_KEYS
    assert sealed_strings(sealed) == [sealed[CSRF_KEY], sealed["_flashes"]]


def test_has_sealed_finds_one_sealed_value_among_plain_ones() -> None:
    token = new_token()
    sealed = sealer().seal_data({"a": 1}, token, hash_token(token))
    assert has_sealed({"x": [1], "y": "plain", **sealed})
    assert not has_sealed({"x": [PREFIX], "y": "plain", "z": 1})


def test_duplicate_secrets_are_refused() -> None:
    from websession import ConfigError

    with pytest.raises(ConfigError, match="duplicate"):
        sealer(SECRET, SECRET)


def test_from_env_turns_it_on() -> None:
    env = {"WEBSESSION_SECRET": SECRET, "WEBSESSION_ENCRYPT_AT_REST": "1"}
    assert SessionConfig.from_env(env).encrypt_at_rest is True
    assert SessionConfig.from_env({"WEBSESSION_SECRET": SECRET}).encrypt_at_rest is False


# -- over the store backend ----------------------------------------------------------------


def header(config: SessionConfig, value: str) -> list[str]:
    return [f"{config.cookie_name}={value}"]


async def begin(backend: AsyncStoreBackend, data: Mapping[str, Any]) -> str:
    """A first request that stores ``data``; the cookie value it sets."""
    session = await backend.open([])
    session.update(data)
    cookie = await backend.save(session)
    assert cookie is not None
    return cookie.value


async def stored(backend: AsyncStoreBackend, value: str) -> dict[str, Any]:
    """The data the store holds for a cookie value, as the store holds it."""
    verified = backend.engine.verify(header(backend.config, value))
    assert verified is not None
    record = await backend.store.load(verified.key)
    assert record is not None
    return record.data


async def test_the_store_holds_only_sealed_values_and_the_app_reads_plain_ones() -> None:
    backend = AsyncStoreBackend(open_async_store("memory://"), CONFIG)
    value = await begin(backend, {"cart": ["book"], "n": 1})
    raw = await stored(backend, value)
    assert set(raw) == {"cart", "n"}
    assert len(sealed_strings(raw)) == 2
    session = await backend.open(header(CONFIG, value))
    assert dict(session) == {"cart": ["book"], "n": 1}


async def test_a_patch_writes_only_the_changed_key_sealed() -> None:
    spy = SpyStore(open_async_store("memory://"))
    backend = AsyncStoreBackend(spy, CONFIG)
    value = await begin(backend, {"a": 1, "b": 2})
    session = await backend.open(header(CONFIG, value))
    session["b"] = 3
    spy.reset()
    await backend.save(session)
    [(op, (_, changes))] = spy.calls
    assert op == "update"
    assert isinstance(changes, Changes)
    assert list(changes.set) == ["b"]
    assert sealed_strings(changes.set) == [changes.set["b"]]


async def test_concurrent_patches_of_different_keys_both_survive() -> None:
    backend = AsyncStoreBackend(open_async_store("memory://"), CONFIG)
    value = await begin(backend, {"seed": 0})
    first = await backend.open(header(CONFIG, value))
    second = await backend.open(header(CONFIG, value))
    first["a"] = "from the first"
    second["b"] = "from the second"
    await backend.save(first)
    await backend.save(second)
    session = await backend.open(header(CONFIG, value))
    assert dict(session) == {"seed": 0, "a": "from the first", "b": "from the second"}


async def test_regenerate_reseals_everything_under_the_new_token() -> None:
    backend = AsyncStoreBackend(open_async_store("memory://"), CONFIG)
    value = await begin(backend, {"a": 1})
    session = await backend.open(header(CONFIG, value))
    session.regenerate()
    cookie = await backend.save(session)
    assert cookie is not None
    raw = await stored(backend, cookie.value)
    token, new_key = cookie.value.split(".")[0], hash_token(cookie.value.split(".")[0])
    assert sealer().open_data(raw, token, new_key) == {"a": 1}
    old_token = value.split(".")[0]
    assert sealer().open_data(raw, old_token, new_key) == {}


async def test_values_sealed_under_a_previous_secret_open_and_are_resealed_on_write() -> None:
    store = open_async_store("memory://")
    old = AsyncStoreBackend(
        store, SessionConfig(secret=OLD_SECRET, secure=False).replace(encrypt_at_rest=True)
    )
    value = await begin(old, {"a": 1, "b": 2})
    rotated = CONFIG.replace(previous_secrets=[OLD_SECRET])
    backend = AsyncStoreBackend(store, rotated)
    session = await backend.open(header(rotated, value))
    assert dict(session) == {"a": 1, "b": 2}
    session["b"] = 3
    cookie = await backend.save(session)
    assert cookie is not None
    raw = await stored(backend, cookie.value)
    token = value.split(".")[0]
    key = hash_token(token)
    assert sealer(SECRET).open_data({"b": raw["b"]}, token, key) == {"b": 3}  # current
    assert sealer(SECRET).open_data({"a": raw["a"]}, token, key) == {}  # untouched: old
    assert sealer(OLD_SECRET).open_data({"a": raw["a"]}, token, key) == {"a": 1}
    session = await backend.open(header(rotated, cookie.value))
    assert dict(session) == {"a": 1, "b": 3}


async def test_a_store_with_plain_and_sealed_records_reads_both() -> None:
    store = open_async_store("memory://")
    before = await begin(AsyncStoreBackend(store, PLAIN), {"a": "plain"})
    backend = AsyncStoreBackend(store, CONFIG)
    after = await begin(backend, {"a": "sealed"})
    assert (await stored(backend, before))["a"] == "plain"
    assert dict(await backend.open(header(CONFIG, before))) == {"a": "plain"}
    assert dict(await backend.open(header(CONFIG, after))) == {"a": "sealed"}


async def test_a_record_with_plain_and_sealed_values_reads_both() -> None:
    store = open_async_store("memory://")
    value = await begin(AsyncStoreBackend(store, PLAIN), {"a": "plain", "b": 1})
    backend = AsyncStoreBackend(store, CONFIG)
    session = await backend.open(header(CONFIG, value))
    session["b"] = 2
    await backend.save(session)
    raw = await stored(backend, value)
    assert raw["a"] == "plain"
    assert sealed_strings(raw) == [raw["b"]]
    assert dict(await backend.open(header(CONFIG, value))) == {"a": "plain", "b": 2}


async def test_switching_it_off_keeps_sealed_sessions_readable() -> None:
    store = open_async_store("memory://")
    value = await begin(AsyncStoreBackend(store, CONFIG), {"a": [1, 2]})
    backend = AsyncStoreBackend(store, PLAIN)
    session = await backend.open(header(PLAIN, value))
    assert dict(session) == {"a": [1, 2]}
    session["b"] = "plain again"
    await backend.save(session)
    raw = await stored(backend, value)
    assert raw["b"] == "plain again"
    assert dict(await backend.open(header(PLAIN, value))) == {"a": [1, 2], "b": "plain again"}


async def test_a_dropped_secret_leaves_its_values_out(caplog: pytest.LogCaptureFixture) -> None:
    store = open_async_store("memory://")
    rotated = CONFIG.replace(previous_secrets=[OLD_SECRET])
    old = AsyncStoreBackend(
        store, SessionConfig(secret=OLD_SECRET, secure=False).replace(encrypt_at_rest=True)
    )
    value = await begin(old, {"a": 1})
    session = await AsyncStoreBackend(store, rotated).open(header(rotated, value))
    session["b"] = 2
    cookie = await AsyncStoreBackend(store, rotated).save(session)
    assert cookie is not None
    with caplog.at_level(logging.WARNING, "websession.sealing"):
        later = await AsyncStoreBackend(store, CONFIG).open(header(CONFIG, cookie.value))
    assert dict(later) == {"b": 2}
    assert "1 sealed value(s)" in caplog.text


async def test_device_and_revocation_stay_readable_for_the_operator() -> None:
    backend = AsyncStoreBackend(open_async_store("memory://"), CONFIG)
    session = await backend.open([])
    session["a"] = 1
    session.user_id = "alice"
    session.set_internal(DEVICE_KEY, {"ip": "192.0.2.1", "agent": "test"})
    session.permanent = False
    cookie = await backend.save(session)
    assert cookie is not None
    raw = await stored(backend, cookie.value)
    assert raw[DEVICE_KEY] == {"ip": "192.0.2.1", "agent": "test"}
    assert raw[PERMANENT_KEY] is False
    assert sealed_strings(raw) == [raw["a"]]
    verified = backend.engine.verify(header(CONFIG, cookie.value))
    assert verified is not None
    record = await backend.store.load(verified.key)
    assert record is not None
    assert record.user_id == "alice"


async def test_a_revoked_sealed_session_is_not_served() -> None:
    backend = AsyncStoreBackend(open_async_store("memory://"), CONFIG)
    value = await begin(backend, {"a": 1})
    key = SessionKey(hash_token(value.split(".")[0]))
    record = await backend.store.load(key)
    assert record is not None
    changes = Changes(record.last_seen, record.expires_at, set={REVOKED_KEY: record.last_seen})
    assert await backend.store.update(key, changes)
    session = await backend.open(header(CONFIG, value))
    assert session.is_new
    assert dict(session) == {}


def test_the_sync_backend_seals_the_same_way() -> None:
    store = MemoryStore()
    backend = StoreBackend(store, CONFIG)
    session = backend.open([])
    session["a"] = {"x": 1}
    cookie = backend.save(session)
    assert cookie is not None
    token = cookie.value.split(".")[0]
    record = store.load(hash_token(token))
    assert record is not None
    assert sealer().open_data(record.data, token, hash_token(token)) == {"a": {"x": 1}}
    assert dict(backend.open(header(CONFIG, cookie.value))) == {"a": {"x": 1}}


# -- over HTTP, on every store -----------------------------------------------------------


async def write(request: Request) -> Response:
    for name, value in request.query_params.items():
        request.session[name] = value
    return PlainTextResponse("ok")


async def read(request: Request) -> Response:
    return JSONResponse(dict(request.session))


def client_for(store: AsyncStore) -> httpx.AsyncClient:
    app = Starlette(routes=[Route("/write", write), Route("/read", read)])
    wrapped = SessionMiddleware(app, store=store, config=CONFIG)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=wrapped), base_url="http://t")


async def test_concurrent_requests_of_one_sealed_session_all_survive(
    store_kind: str, tmp_path: Path
) -> None:
    store = open_async_store(store_url(store_kind, tmp_path))
    try:
        async with client_for(store) as client:
            first = await client.get("/write", params={"seed": "0"})
            cookie = first.cookies[CONFIG.cookie_name]
            headers = {"cookie": f"{CONFIG.cookie_name}={cookie}"}
            client.cookies.clear()
            responses = await asyncio.gather(
                *(
                    client.get("/write", params={f"k{i}": str(i)}, headers=headers)
                    for i in range(40)
                )
            )
            assert all(r.status_code == 200 for r in responses)
            data = (await client.get("/read", headers=headers)).json()
        assert data == {"seed": "0", **{f"k{i}": str(i) for i in range(40)}}
    finally:
        await store.close()


def test_session_class_of_the_sealed_session_is_kept() -> None:
    class Mine(Session):
        pass

    backend = StoreBackend(MemoryStore(), CONFIG)
    session = backend.open([])
    session["a"] = 1
    cookie = backend.save(session)
    assert cookie is not None
    assert type(backend.open(header(CONFIG, cookie.value), Mine)) is Mine
