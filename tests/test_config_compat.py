"""Starlette's and Flask's session settings, mapped onto SessionConfig."""

from __future__ import annotations

from datetime import timedelta

import flask
import pytest
from starlette.datastructures import Secret as StarletteSecret

from websession import ConfigError, SessionConfig
from websession.config_compat import absolute_for, flask_settings, starlette_settings

SECRET = "c" * 32


def test_starlette_defaults_keep_starlettes_meaning() -> None:
    config = starlette_settings(SECRET)
    assert config.cookie_name == "session"
    assert config.cookie_path == "/"
    assert config.cookie_domain is None
    assert not config.secure
    assert config.http_only
    assert config.same_site == "lax"
    assert not config.partitioned
    assert config.permanent
    assert config.idle_timeout == timedelta(days=14)
    assert config.absolute_timeout == timedelta(days=28)


def test_starlette_arguments_map_onto_the_config() -> None:
    config = starlette_settings(
        StarletteSecret(SECRET),
        session_cookie="sid",
        max_age=3600,
        path="/app",
        same_site="strict",
        https_only=True,
        domain="example.com",
        partitioned=True,
    )
    assert config.signing_secret.reveal() == SECRET.encode()
    assert (config.cookie_name, config.cookie_path, config.cookie_domain) == (
        "sid",
        "/app",
        "example.com",
    )
    assert config.secure
    assert config.same_site == "strict"
    assert config.partitioned
    assert config.idle_timeout == timedelta(hours=1)
    assert config.absolute_timeout == timedelta(days=14)


def test_starlette_max_age_none_is_a_browser_session_cookie() -> None:
    config = starlette_settings(SECRET, max_age=None)
    assert not config.permanent
    assert config.idle_timeout == timedelta(days=14)


@pytest.mark.parametrize("max_age", [0, -1])
def test_starlette_max_age_zero_or_less_ends_sessions_with_their_request(max_age: int) -> None:
    assert starlette_settings(SECRET, max_age=max_age).idle_timeout < timedelta(milliseconds=1)


def test_a_short_starlette_secret_is_refused_without_echoing_it() -> None:
    with pytest.raises(ConfigError, match="secret_key is 7 bytes") as caught:
        starlette_settings("example")
    assert "example" not in str(caught.value).replace("secret_key", "")


def test_starlette_same_site_none_needs_https_only() -> None:
    with pytest.raises(ConfigError, match="requires secure=True"):
        starlette_settings(SECRET, same_site="none")


def test_flask_defaults_keep_flasks_meaning() -> None:
    app = flask.Flask(__name__)
    app.config["SECRET_KEY"] = SECRET
    config = flask_settings(app.config)
    assert config.cookie_name == "session"
    assert config.cookie_path == "/"
    assert config.cookie_domain is None
    assert not config.secure
    assert config.http_only
    assert config.same_site == "lax"  # Flask sends none by default; websession always does
    assert not config.permanent
    assert config.refresh_each_request
    assert config.idle_timeout == timedelta(days=31)
    assert config.absolute_timeout == timedelta(days=62)


def test_flask_settings_map_onto_the_config() -> None:
    config = flask_settings(
        {
            "SECRET_KEY": SECRET.encode(),
            "SECRET_KEY_FALLBACKS": ["o" * 32],
            "SESSION_COOKIE_NAME": "sid",
            "SESSION_COOKIE_DOMAIN": ".example.com",
            "SESSION_COOKIE_PATH": None,
            "APPLICATION_ROOT": "/app",
            "SESSION_COOKIE_SECURE": True,
            "SESSION_COOKIE_HTTPONLY": False,
            "SESSION_COOKIE_SAMESITE": "Strict",
            "SESSION_COOKIE_PARTITIONED": True,
            "PERMANENT_SESSION_LIFETIME": 600,
            "SESSION_REFRESH_EACH_REQUEST": False,
        }
    )
    assert [s.reveal() for s in config.verifying_secrets] == [SECRET.encode(), b"o" * 32]
    assert config.cookie_name == "sid"
    assert config.cookie_domain == "example.com"
    assert config.cookie_path == "/app"
    assert config.secure
    assert not config.http_only
    assert config.same_site == "strict"
    assert config.partitioned
    assert config.idle_timeout == timedelta(minutes=10)
    assert not config.refresh_each_request


def test_flask_sessions_permanent_setting_is_the_default() -> None:
    assert flask_settings({"SECRET_KEY": SECRET, "SESSION_PERMANENT": True}).permanent


def test_flask_cookie_path_wins_over_the_application_root() -> None:
    config = flask_settings(
        {"SECRET_KEY": SECRET, "SESSION_COOKIE_PATH": "/s", "APPLICATION_ROOT": "/app"}
    )
    assert config.cookie_path == "/s"


def test_flask_without_a_secret_key_says_what_to_do() -> None:
    with pytest.raises(ConfigError, match=r"SECRET_KEY is not set.*config=SessionConfig"):
        flask_settings({"SECRET_KEY": None})


def test_a_short_flask_secret_key_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"SECRET_KEY is 3 bytes.*at least 32"):
        flask_settings({"SECRET_KEY": "dev"})


def test_a_short_flask_fallback_key_is_named() -> None:
    with pytest.raises(ConfigError, match=r"SECRET_KEY_FALLBACKS\[1\] is 3 bytes"):
        flask_settings({"SECRET_KEY": SECRET, "SECRET_KEY_FALLBACKS": ["o" * 32, "old"]})


@pytest.mark.parametrize("value", ["invalid", "", 1])
def test_an_invalid_flask_samesite_is_a_value_error(value: object) -> None:
    with pytest.raises(ValueError, match="SESSION_COOKIE_SAMESITE"):
        flask_settings({"SECRET_KEY": SECRET, "SESSION_COOKIE_SAMESITE": value})


def test_an_invalid_flask_lifetime_is_refused() -> None:
    with pytest.raises(ConfigError, match="PERMANENT_SESSION_LIFETIME"):
        flask_settings({"SECRET_KEY": SECRET, "PERMANENT_SESSION_LIFETIME": "a month"})


def test_the_absolute_timeout_leaves_room_to_refresh() -> None:
    assert absolute_for(timedelta(hours=1)) == timedelta(days=14)
    assert absolute_for(timedelta(days=31)) == timedelta(days=62)


def test_a_dotted_cookie_domain_is_kept_without_the_dot() -> None:
    assert SessionConfig(secret=SECRET, cookie_domain=".example.com").cookie_domain == (
        "example.com"
    )
    with pytest.raises(ConfigError, match="not a valid domain"):
        SessionConfig(secret=SECRET, cookie_domain=".")
