"""Session configuration: one frozen dataclass, validated at construction."""

from __future__ import annotations

import dataclasses
import difflib
import secrets as _secrets
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal, cast

from websession.errors import ConfigError, ConfigWarning

__all__ = ["SameSite", "Secret", "SessionConfig"]

SameSite = Literal["lax", "strict", "none"]

MIN_SECRET_BYTES = 32
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
# WEBSESSION_* names read elsewhere (the command, the demo, tests, benchmarks): not
# SessionConfig fields, and not misspellings of them.
OTHER_ENV_NAMES = frozenset({"PRESET", "STORE", "USERS"})
OTHER_ENV_PREFIXES = ("DEMO_", "TEST_", "BENCH_")


class Secret:
    """A signing secret of at least 32 bytes whose ``repr`` never shows the value."""

    __slots__ = ("_value",)

    def __init__(self, value: str | bytes) -> None:
        raw = value.encode() if isinstance(value, str) else bytes(value)
        if len(raw) < MIN_SECRET_BYTES:
            raise ConfigError(
                f"a session secret must be at least {MIN_SECRET_BYTES} bytes, got {len(raw)}: "
                "generate one with `python -c 'import secrets; print(secrets.token_urlsafe(48))'`"
            )
        self._value = raw

    @classmethod
    def generate(cls) -> Secret:
        """Return a new random secret (for development only: it dies with the process)."""
        return cls(_secrets.token_urlsafe(48))

    def reveal(self) -> bytes:
        """Return the secret bytes."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and _secrets.compare_digest(self._value, other._value)

    def __hash__(self) -> int:
        return hash(self._value)


def _as_secret(value: object, name: str) -> Secret:
    if isinstance(value, Secret):
        return value
    if isinstance(value, str | bytes):
        return Secret(value)
    raise ConfigError(f"{name} must be a str, bytes or Secret, not {type(value).__name__}")


# RFC 6265bis: a cookie name is an RFC 9110 token; a Path attribute value is any
# printable ASCII except ';'; an attribute value is at most 1024 bytes.
_TOKEN_CHARS = frozenset(
    "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
)
_PATH_CHARS = frozenset(chr(c) for c in range(0x20, 0x7F)) - {";"}
_LABEL_CHARS = frozenset("-0123456789abcdefghijklmnopqrstuvwxyz")
_MAX_ATTRIBUTE = 1024


def _is_domain(domain: object) -> bool:
    if not isinstance(domain, str) or not domain or len(domain) > 253:
        return False
    labels = domain.lower().split(".")
    return all(
        0 < len(label) <= 63
        and _LABEL_CHARS.issuperset(label)
        and not label.startswith("-")
        and not label.endswith("-")
        for label in labels
    )


@dataclass(frozen=True, slots=True)
class SessionConfig:
    """How sessions are signed, stored, expired and sent to the browser.

    Every field is validated at construction; a bad value raises ``ConfigError`` with a
    message that says what to change. ``development()``, ``production()`` and
    ``from_env()`` give ready starting points.
    """

    secret: Secret | str | bytes
    """Signs new cookies. At least 32 bytes. Stored as a ``Secret`` (masked repr)."""
    previous_secrets: Sequence[Secret | str | bytes] = ()
    """Older secrets that still verify cookies; such cookies are re-signed with ``secret``."""
    cookie_name: str = "session"
    """Name of the session cookie. ``__Host-`` and ``__Secure-`` prefixes are checked."""
    cookie_path: str = "/"
    """Path attribute of the cookie."""
    cookie_domain: str | None = None
    """Domain attribute; None (the default) keeps the cookie to the exact host."""
    secure: bool = True
    """Send the cookie over HTTPS only."""
    http_only: bool = True
    """Hide the cookie from JavaScript."""
    same_site: SameSite = "lax"
    """SameSite attribute: ``lax``, ``strict`` or ``none`` (``none`` needs ``secure``)."""
    partitioned: bool = False
    """Partitioned attribute (CHIPS); needs ``secure``."""
    idle_timeout: timedelta = timedelta(hours=12)
    """A session unused for this long expires."""
    absolute_timeout: timedelta = timedelta(days=14)
    """A session expires this long after it was created, however active it is."""
    refresh_threshold: float = 0.5
    """Share of the idle window that must pass before a read request extends the
    deadline with a write; below it, reads cost no write at all."""
    permanent: bool = True
    """True: the cookie carries Max-Age up to the idle deadline. False: a browser-session
    cookie that the browser drops when it closes. The default of ``session.permanent``,
    which a session can change for itself ("remember me")."""
    refresh_each_request: bool = False
    """True: every request of a permanent session extends its idle deadline and re-sends
    its cookie (Flask's ``SESSION_REFRESH_EACH_REQUEST``), one write per request.
    False: ``refresh_threshold`` decides, and most reads cost no write."""
    max_size: int = 64 * 1024
    """Largest serialized session data in bytes; a larger session raises SessionDataError."""
    encrypt_at_rest: bool = False
    """Seal each session value in the store with AES-256-GCM under a key derived from the
    session's token and the secret, so a store dump (even with the secret) reveals no
    session data without the cookie (``docs/encryption.md``). Needs ``cryptography``.
    Sealed values are read whatever this says, so it can be switched either way."""
    save_on_error: bool = False
    """False (as Django): a request whose view raises or answers a status of 500 or
    more saves nothing and sends no session cookie, so a half-done change is never
    kept. True: such responses save the session like any other."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "secret", _as_secret(self.secret, "secret"))
        if isinstance(self.previous_secrets, str | bytes):
            raise ConfigError("previous_secrets must be a list of secrets, not a single one")
        object.__setattr__(
            self,
            "previous_secrets",
            tuple(_as_secret(s, "previous_secrets[]") for s in self.previous_secrets),
        )
        self._check_cookie()
        self._check_timeouts()

    def _check_cookie(self) -> None:
        name = self.cookie_name
        if not isinstance(name, str) or not name or not _TOKEN_CHARS.issuperset(name):
            raise ConfigError(
                f"cookie_name {name!r} is not a valid cookie name: use letters, digits and -_."
            )
        path = self.cookie_path
        if (
            not isinstance(path, str)
            or not path.startswith("/")
            or not _PATH_CHARS.issuperset(path)
            or len(path) > _MAX_ATTRIBUTE
        ):
            raise ConfigError(
                f"cookie_path {path!r} must start with '/' and hold only printable ASCII "
                f"without ';' (percent-encode the rest), at most {_MAX_ATTRIBUTE} characters"
            )
        domain = self.cookie_domain
        if domain is not None and domain.startswith("."):  # RFC 6265: the dot is ignored
            object.__setattr__(self, "cookie_domain", domain[1:])
        if self.cookie_domain is not None and not _is_domain(self.cookie_domain):
            raise ConfigError(
                f"cookie_domain {domain!r} is not a valid domain: ASCII labels of letters, "
                "digits and '-' separated by dots (punycode for IDNs), no port"
            )
        if self.same_site not in ("lax", "strict", "none"):
            raise ConfigError(
                f"same_site must be 'lax', 'strict' or 'none', not {self.same_site!r}"
            )
        if self.same_site == "none" and not self.secure:
            raise ConfigError("same_site='none' requires secure=True (browsers reject it)")
        if self.partitioned and not self.secure:
            raise ConfigError("partitioned=True requires secure=True")
        if name.startswith("__Host-"):
            if not self.secure:
                raise ConfigError("a __Host- cookie requires secure=True")
            if self.cookie_domain is not None:
                raise ConfigError("a __Host- cookie must not set cookie_domain; remove it")
            if self.cookie_path != "/":
                raise ConfigError("a __Host- cookie requires cookie_path='/'")
        if name.startswith("__Secure-") and not self.secure:
            raise ConfigError("a __Secure- cookie requires secure=True")

    def _check_timeouts(self) -> None:
        for name in ("idle_timeout", "absolute_timeout"):
            value = getattr(self, name)
            if not isinstance(value, timedelta) or value <= timedelta(0):
                raise ConfigError(f"{name} must be a positive timedelta, not {value!r}")
        if self.idle_timeout > self.absolute_timeout:
            raise ConfigError(
                "idle_timeout must not be longer than absolute_timeout "
                f"({self.idle_timeout} > {self.absolute_timeout})"
            )
        if not 0.0 <= self.refresh_threshold < 1.0:
            raise ConfigError(
                f"refresh_threshold is a share of the idle window in [0, 1), "
                f"not {self.refresh_threshold!r}"
            )
        if self.max_size < 64:
            raise ConfigError(f"max_size must be at least 64 bytes, not {self.max_size}")

    @property
    def signing_secret(self) -> Secret:
        """The secret that signs new cookies."""
        assert isinstance(self.secret, Secret)  # noqa: S101 - normalized in __post_init__
        return self.secret

    @property
    def verifying_secrets(self) -> tuple[Secret, ...]:
        """Every secret that verifies a cookie, current first."""
        return (self.signing_secret, *cast("tuple[Secret, ...]", self.previous_secrets))

    def replace(self, **changes: Any) -> SessionConfig:
        """Return a copy with ``changes`` applied (and validated)."""
        return dataclasses.replace(self, **changes)

    @classmethod
    def development(
        cls, secret: Secret | str | bytes | None = None, **overrides: Any
    ) -> SessionConfig:
        """Settings for local HTTP development: no Secure flag, long idle timeout.

        Without ``secret`` a random one is generated, so sessions end with the process.
        """
        options: dict[str, Any] = {
            "cookie_name": "session",
            "secure": False,
            "same_site": "lax",
            "idle_timeout": timedelta(days=1),
            "absolute_timeout": timedelta(days=14),
        }
        options.update(overrides)
        return cls(secret=secret if secret is not None else Secret.generate(), **options)

    @classmethod
    def production(cls, secret: Secret | str | bytes, **overrides: Any) -> SessionConfig:
        """Settings for HTTPS production: ``__Host-`` cookie, Secure, HttpOnly,
        SameSite=Lax, 30 minute idle and 12 hour absolute timeouts (OWASP)."""
        options: dict[str, Any] = {
            "cookie_name": "__Host-session",
            "secure": True,
            "http_only": True,
            "same_site": "lax",
            "idle_timeout": timedelta(minutes=30),
            "absolute_timeout": timedelta(hours=12),
        }
        options.update(overrides)
        return cls(secret=secret, **options)

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str], *, prefix: str = "WEBSESSION_", **overrides: Any
    ) -> SessionConfig:
        """Build a config from ``WEBSESSION_*`` variables in ``environ``.

        ``WEBSESSION_SECRET`` is required (or ``secret=`` in ``overrides``);
        ``WEBSESSION_PREVIOUS_SECRETS`` is comma separated; timeouts are seconds;
        booleans are 1/0, true/false, yes/no, on/off. ``WEBSESSION_PRESET`` picks
        ``development`` or ``production`` as the base; without it the class defaults
        apply (cookie ``session``, Secure, HttpOnly, SameSite=Lax, 12 hour idle and 14
        day absolute timeouts). Variables given explicitly win over the preset. An
        unknown ``WEBSESSION_*`` variable (a misspelling) warns with ``ConfigWarning``.
        """
        _warn_unknown(environ, prefix, [f.name.upper() for f in dataclasses.fields(cls)])
        options: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            raw = environ.get(prefix + f.name.upper())
            if raw is None:
                continue
            options[f.name] = _parse_env(f.name, f.type, raw, prefix)
        options.update(overrides)
        preset = environ.get(prefix + "PRESET", "").strip().lower()
        if preset == "development":
            return cls.development(**options)
        if preset == "production":
            if "secret" not in options:
                raise ConfigError(f"{prefix}SECRET is required with the production preset")
            return cls.production(**options)
        if preset:
            raise ConfigError(
                f"{prefix}PRESET must be 'development' or 'production', not {preset!r}"
            )
        if "secret" not in options:
            raise ConfigError(
                f"{prefix}SECRET is not set: set it to at least {MIN_SECRET_BYTES} random bytes"
            )
        return cls(**options)


def _warn_unknown(environ: Mapping[str, str], prefix: str, fields: list[str]) -> None:
    """Warn about ``prefix`` variables that configure nothing, with a likely fix."""
    known = {*fields, *OTHER_ENV_NAMES}
    for name in environ:
        if not name.startswith(prefix):
            continue
        rest = name[len(prefix) :]
        if rest in known or rest.startswith(OTHER_ENV_PREFIXES):
            continue
        hint = _closest(rest, fields)
        suggestion = f": did you mean {prefix}{hint}?" if hint else ""
        warnings.warn(
            f"{name} is not a websession setting and is ignored{suggestion}",
            ConfigWarning,
            stacklevel=3,
        )


def _closest(name: str, fields: list[str]) -> str | None:
    """The field ``name`` most likely meant (``COOKIE_SECURE`` -> ``SECURE``)."""

    def squash(value: str) -> str:
        return value.removeprefix("COOKIE_").replace("_", "")

    for field in fields:
        if squash(field) == squash(name):
            return field
    matches = difflib.get_close_matches(name, fields, n=1, cutoff=0.75)
    return matches[0] if matches else None


def _parse_env(name: str, annotation: object, raw: str, prefix: str) -> Any:
    env_name = prefix + name.upper()
    kind = str(annotation)
    value = raw.strip()
    try:
        if name == "previous_secrets":
            return tuple(s.strip() for s in raw.split(",") if s.strip())
        if name == "secret":
            return raw
        if "timedelta" in kind:
            return timedelta(seconds=float(value))
        if kind == "bool":
            lowered = value.lower()
            if lowered in _TRUE:
                return True
            if lowered in _FALSE:
                return False
            raise ValueError(value)
        if kind == "int":
            return int(value)
        if kind == "float":
            return float(value)
        if name == "cookie_domain":
            return value or None
        return value
    except ValueError:
        raise ConfigError(f"{env_name}={raw!r} is not a valid {kind}") from None
