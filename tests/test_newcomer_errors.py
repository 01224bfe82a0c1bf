"""Mistakes a newcomer makes get an error (or warning) that says what to do, when the
mistake is made: a missing extra names itself, a misspelled ``WEBSESSION_*`` variable
is reported, helpers check their arguments when built, and CSRF in the wrong place
says the middleware order is wrong."""

from __future__ import annotations

import subprocess
import sys
import warnings
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from websession import CSRFMiddleware, SessionConfig, SessionMiddleware
from websession.auth import AsyncAuth, AuthConfig
from websession.auth.fastapi import FastAPIAuth
from websession.auth.web import WebAuth
from websession.errors import ConfigError, ConfigWarning

SECRET = "n" * 32


def from_env_warnings(environ: dict[str, str]) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        SessionConfig.from_env({"WEBSESSION_SECRET": SECRET, **environ})
    assert all(w.category is ConfigWarning for w in caught)
    return [str(w.message) for w in caught]


# -- unknown WEBSESSION_* variables ---------------------------------------------------


@pytest.mark.parametrize(
    ("name", "meant"),
    [
        ("WEBSESSION_COOKIE_SECURE", "WEBSESSION_SECURE"),
        ("WEBSESSION_HTTPONLY", "WEBSESSION_HTTP_ONLY"),
        ("WEBSESSION_COOKIE_SAMESITE", "WEBSESSION_SAME_SITE"),
        ("WEBSESSION_IDLE_TIMOUT", "WEBSESSION_IDLE_TIMEOUT"),
        ("WEBSESSION_SECRETS", "WEBSESSION_SECRET"),
    ],
)
def test_misspelled_variable_warns_with_the_likely_name(name: str, meant: str) -> None:
    (message,) = from_env_warnings({name: "1"})
    assert message.startswith(f"{name} is not a websession setting")
    assert message.endswith(f"did you mean {meant}?")


def test_unrelated_unknown_variable_warns_without_a_guess() -> None:
    (message,) = from_env_warnings({"WEBSESSION_FROBNICATE": "1"})
    assert "did you mean" not in message


def test_names_read_elsewhere_and_fields_do_not_warn() -> None:
    environ = {
        "WEBSESSION_STORE": "memory://",
        "WEBSESSION_USERS": "memory://",
        "WEBSESSION_PRESET": "development",
        "WEBSESSION_TEST_REDIS_URL": "redis://localhost",
        "WEBSESSION_DEMO_ANYTHING": "1",
        "WEBSESSION_SECURE": "false",
        "WEBSESSION_PREVIOUS_SECRETS": "p" * 32,
        "OTHER_COOKIE_SECURE": "1",
    }
    assert from_env_warnings(environ) == []


def test_custom_prefix_checks_its_own_names() -> None:
    with pytest.warns(ConfigWarning, match="did you mean APP_SECURE"):
        SessionConfig.from_env({"APP_SECRET": SECRET, "APP_COOKIE_SECURE": "0"}, prefix="APP_")


def test_from_env_without_preset_uses_the_documented_class_defaults() -> None:
    config = SessionConfig.from_env({"WEBSESSION_SECRET": SECRET})
    assert (config.cookie_name, config.secure, config.same_site) == ("session", True, "lax")
    assert config.idle_timeout == timedelta(hours=12)
    assert config.absolute_timeout == timedelta(days=14)


# -- helpers check their arguments when built ----------------------------------------


@pytest.fixture
async def auth() -> AsyncIterator[AsyncAuth]:
    service = AsyncAuth(
        "memory://",
        "memory://",
        session_config=SessionConfig.development(secret=SECRET),
        config=AuthConfig.development(),
    )
    yield service
    await service.close()


@pytest.mark.parametrize("max_age", [300, 300.0, "300"])
def test_require_recent_auth_refuses_a_non_timedelta_when_built(
    auth: AsyncAuth, max_age: Any
) -> None:
    web = WebAuth(auth)
    with pytest.raises(ConfigError, match=r"timedelta\(seconds="):
        web.require_recent_auth(max_age)
    with pytest.raises(ConfigError, match=r"max_age must be a datetime\.timedelta"):
        FastAPIAuth(auth).require_recent_auth(max_age)


def test_require_recent_auth_accepts_timedelta_and_none(auth: AsyncAuth) -> None:
    web = WebAuth(auth)
    assert callable(web.require_recent_auth(timedelta(minutes=5)))
    assert callable(web.require_recent_auth())
    assert callable(FastAPIAuth(auth).require_recent_auth(timedelta(seconds=1)))


def test_login_required_without_an_endpoint_fails_when_built(auth: AsyncAuth) -> None:
    with pytest.raises(ConfigError, match="decorates an endpoint"):
        WebAuth(auth).login_required(None)  # type: ignore[arg-type]  # the mistake tested


def test_web_auth_needs_the_async_service() -> None:
    with pytest.raises(ConfigError, match="needs an AsyncAuth"):
        WebAuth(object())  # type: ignore[arg-type]  # the mistake tested


# -- CSRF in the wrong order ---------------------------------------------------------


def csrf_app(*, session_inside: bool) -> Starlette:
    async def submit(request: Request) -> PlainTextResponse:
        return PlainTextResponse("done")

    app = Starlette(routes=[Route("/", submit, methods=["POST"])])
    if session_inside:  # wrong: CSRF added last, so it runs outermost
        app.add_middleware(SessionMiddleware, store="memory://", config=CONFIG)
    app.add_middleware(CSRFMiddleware)
    return app


CONFIG = SessionConfig(secret=SECRET, secure=False)


async def post(app: Starlette) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        return await client.post("/", data={"a": "1"})


async def test_csrf_outside_session_middleware_says_the_order_is_wrong() -> None:
    with pytest.raises(RuntimeError, match="the middleware order is wrong"):
        await post(csrf_app(session_inside=True))


async def test_csrf_without_session_middleware_says_to_add_it() -> None:
    with pytest.raises(RuntimeError, match=r"add websession\.SessionMiddleware"):
        await post(csrf_app(session_inside=False))


# -- a missing extra names itself ----------------------------------------------------


def without(modules: list[str], code: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter where ``modules`` cannot be imported."""
    hide = "".join(f"sys.modules[{m!r}] = None; " for m in modules)
    return subprocess.run(
        [sys.executable, "-c", f"import sys; {hide}{code}"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("modules", "module", "install"),
    [
        (["flask"], "websession.integrations.flask", "websession[flask]"),
        (["django"], "websession.integrations.django", "websession[django]"),
        (["starlette"], "websession.auth.web", "websession[auth,starlette]"),
        (["fastapi"], "websession.auth.fastapi", "websession[auth,fastapi]"),
        (["opentelemetry"], "websession.telemetry", "websession[otel]"),
    ],
)
def test_missing_extra_is_named(modules: list[str], module: str, install: str) -> None:
    result = without(modules, f"import {module}")
    assert result.returncode != 0
    assert f"ConfigError: {module}" in result.stderr
    assert f"pip install '{install}'" in result.stderr


@pytest.mark.parametrize("missing", ["starlette", "uvicorn"])
def test_demo_command_without_the_demo_extra_says_so_without_a_traceback(
    missing: str,
) -> None:
    code = "from websession.cli.main import main; sys.exit(main(['demo', '--port', '1']))"
    result = without([missing], code)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert f"no module named {missing!r}" in result.stderr
    assert "pip install 'websession[demo]'" in result.stderr
