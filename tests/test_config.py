"""SessionConfig: validation with actionable messages, presets, environment."""

from __future__ import annotations

from datetime import timedelta

import pytest

from websession import ConfigError, Secret, SessionConfig

SECRET = "s" * 32


def test_secret_shorter_than_32_bytes_is_rejected() -> None:
    with pytest.raises(ConfigError, match="at least 32 bytes"):
        SessionConfig(secret="short")


def test_secret_repr_is_masked() -> None:
    config = SessionConfig(secret="x" * 40, previous_secrets=["y" * 40])
    assert "x" * 40 not in repr(config)
    assert "y" * 40 not in repr(config)
    assert isinstance(config.secret, Secret)


def test_previous_secrets_must_be_a_list() -> None:
    with pytest.raises(ConfigError, match="list"):
        SessionConfig(secret=SECRET, previous_secrets="z" * 40)


def test_verifying_secrets_put_the_current_one_first() -> None:
    config = SessionConfig(secret="a" * 32, previous_secrets=["b" * 32])
    assert [s.reveal() for s in config.verifying_secrets] == [b"a" * 32, b"b" * 32]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"cookie_name": "__Host-s", "secure": False}, "requires secure=True"),
        ({"cookie_name": "__Host-s", "cookie_domain": "example.com"}, "must not set"),
        ({"cookie_name": "__Host-s", "cookie_path": "/app"}, "cookie_path='/'"),
        ({"cookie_name": "__Secure-s", "secure": False}, "requires secure=True"),
        ({"same_site": "none", "secure": False}, "requires secure=True"),
        ({"same_site": "sometimes"}, "same_site must be"),
        ({"partitioned": True, "secure": False}, "requires secure=True"),
        ({"cookie_name": "bad name"}, "not a valid cookie name"),
        ({"cookie_name": ""}, "not a valid cookie name"),
        ({"cookie_path": "app"}, "must start with '/'"),
        ({"idle_timeout": timedelta(0)}, "positive"),
        ({"idle_timeout": timedelta(days=2), "absolute_timeout": timedelta(days=1)}, "longer"),
        ({"refresh_threshold": 1.0}, "refresh_threshold"),
        ({"max_size": 10}, "max_size"),
    ],
)
def test_invalid_options_say_what_to_do(options: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        SessionConfig(secret=SECRET, **options)  # type: ignore[arg-type]


def test_config_is_frozen() -> None:
    config = SessionConfig(secret=SECRET)
    with pytest.raises(AttributeError):
        config.cookie_name = "other"  # type: ignore[misc]


def test_production_preset_is_strict() -> None:
    config = SessionConfig.production(secret=SECRET)
    assert config.cookie_name == "__Host-session"
    assert config.secure
    assert config.http_only
    assert config.same_site == "lax"
    assert config.idle_timeout == timedelta(minutes=30)
    assert config.absolute_timeout == timedelta(hours=12)


def test_development_preset_generates_a_secret_and_allows_http() -> None:
    first, second = SessionConfig.development(), SessionConfig.development()
    assert not first.secure
    assert first.secret != second.secret


def test_from_env_reads_every_kind_of_field() -> None:
    config = SessionConfig.from_env(
        {
            "WEBSESSION_SECRET": "e" * 32,
            "WEBSESSION_PREVIOUS_SECRETS": "f" * 32 + ", " + "g" * 32,
            "WEBSESSION_COOKIE_NAME": "sid",
            "WEBSESSION_SECURE": "false",
            "WEBSESSION_IDLE_TIMEOUT": "600",
            "WEBSESSION_REFRESH_THRESHOLD": "0.25",
            "WEBSESSION_MAX_SIZE": "2048",
            "WEBSESSION_SAME_SITE": "strict",
        }
    )
    assert config.cookie_name == "sid"
    assert config.secure is False
    assert config.idle_timeout == timedelta(seconds=600)
    assert config.refresh_threshold == 0.25
    assert config.max_size == 2048
    assert config.same_site == "strict"
    assert len(config.verifying_secrets) == 3


def test_from_env_with_production_preset() -> None:
    config = SessionConfig.from_env(
        {"WEBSESSION_SECRET": SECRET, "WEBSESSION_PRESET": "production"}
    )
    assert config.cookie_name == "__Host-session"


def test_from_env_without_secret_says_which_variable() -> None:
    with pytest.raises(ConfigError, match="WEBSESSION_SECRET"):
        SessionConfig.from_env({})


def test_from_env_rejects_a_bad_value_naming_it() -> None:
    with pytest.raises(ConfigError, match="WEBSESSION_SECURE"):
        SessionConfig.from_env({"WEBSESSION_SECRET": SECRET, "WEBSESSION_SECURE": "maybe"})


def test_from_env_rejects_an_unknown_preset() -> None:
    with pytest.raises(ConfigError, match="PRESET"):
        SessionConfig.from_env({"WEBSESSION_SECRET": SECRET, "WEBSESSION_PRESET": "staging"})
