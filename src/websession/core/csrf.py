"""CSRF defence, sans-IO: origin checks, and session-bound tokens masked per response.

A request with an unsafe method is decided in two steps::

    decision = policy.check_headers(method, sec_fetch_site, origin, own_origin)
    if decision is UNDECIDED:                       # old browser, or a non-browser client
        decision = policy.check_token(session, submitted_token)

* ``Sec-Fetch-Site: same-origin`` allows; ``same-site`` and ``cross-site`` reject unless
  the ``Origin`` is trusted; ``none`` and unknown values decide nothing.
* Otherwise an ``Origin`` equal to the request's own origin or a trusted one (scheme,
  host and port all compared) allows; any other ``Origin``, ``null`` included, rejects.
* Otherwise the synchronizer token decides. The session keeps a 256-bit secret under a
  reserved key; the page gets ``mask(secret)``: a fresh 32-byte pad and the secret
  XORed with it, so no two responses carry the same bytes (BREACH). The secret is
  dropped on ``regenerate()`` and ``destroy()``, so login rotates it.

Nothing here reads a socket: the ASGI middleware and the Flask integration feed it.
"""

from __future__ import annotations

import base64
import binascii
import enum
import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple
from urllib.parse import unquote_to_bytes

from websession.core.session import CSRF_KEY, Session
from websession.errors import ConfigError, WebsessionError

__all__ = [
    "SAFE_METHODS",
    "TOKEN_LENGTH",
    "CSRFError",
    "CSRFPolicy",
    "Decision",
    "Origin",
    "Verdict",
    "is_form",
    "mask",
    "new_secret",
    "parse_host",
    "parse_origin",
    "rotate",
    "session_secret",
    "session_token",
    "token_from_form",
    "unmask",
]

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
"""Methods that must not change state, and are never checked."""

_SECRET_BYTES = 32
_SECRET_LENGTH = 43
TOKEN_LENGTH = 86
"""Characters of a masked token: 64 bytes (pad and masked secret) in URL-safe base64."""
_B64 = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
_MAX_ORIGIN = 512
_SCHEME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789+.-")
_HOST_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789.-_")
_IPV6_CHARS = frozenset("0123456789abcdef:.")
_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


class CSRFError(WebsessionError):
    """A request failed the CSRF check; ``reason`` is a short code safe to show."""

    status = 403
    code = "csrf_failed"

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class Verdict(enum.Enum):
    """What one step of the check concluded."""

    ALLOW = "allow"
    REJECT = "reject"
    UNDECIDED = "undecided"


@dataclass(frozen=True, slots=True)
class Decision:
    """A verdict and, for a rejection, a reason code and a message safe to show."""

    verdict: Verdict
    reason: str = ""
    message: str = ""

    @property
    def allowed(self) -> bool:
        """True if the request may go on."""
        return self.verdict is Verdict.ALLOW

    def error(self) -> CSRFError:
        """The error for a rejection."""
        return CSRFError(self.reason, self.message)


ALLOW = Decision(Verdict.ALLOW)
UNDECIDED = Decision(Verdict.UNDECIDED)


def _reject(reason: str, message: str) -> Decision:
    return Decision(Verdict.REJECT, reason, message)


class Origin(NamedTuple):
    """A serialized origin: lower-case scheme and host, and the port (0: none known)."""

    scheme: str
    host: str
    port: int

    def __str__(self) -> str:
        default = _DEFAULT_PORTS.get(self.scheme)
        port = "" if self.port in (0, default) else f":{self.port}"
        return f"{self.scheme}://{self.host}{port}"


def _split_host_port(text: str) -> tuple[str, str] | None:
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            return None
        host, rest = text[: end + 1], text[end + 1 :]
        if not _IPV6_CHARS.issuperset(host[1:-1]) or len(host) < 4:
            return None
        if rest and not rest.startswith(":"):
            return None
        return host, rest[1:] if rest else ""
    host, _, port = text.partition(":")
    if not host or not _HOST_CHARS.issuperset(host) or host.startswith(("-", ".")):
        return None
    return host, port


def _port(text: str, scheme: str) -> int | None:
    if not text:
        return _DEFAULT_PORTS.get(scheme, 0)
    if len(text) > 5 or not text.isascii() or not text.isdigit():
        return None
    value = int(text)
    return value if 0 < value < 65536 else None


def parse_origin(value: str) -> Origin | None:
    """Parse an ``Origin`` header or a configured origin; None if it is not one.

    Accepts ``scheme://host[:port]`` only: no path, user, query or fragment, ASCII
    only (browsers send IDNs in punycode), at most 512 characters. ``null`` is None.
    """
    if not isinstance(value, str) or len(value) > _MAX_ORIGIN or not value.isascii():
        return None
    scheme, sep, rest = value.lower().partition("://")
    if not sep or not scheme or not scheme[0].isalpha() or not _SCHEME_CHARS.issuperset(scheme):
        return None
    return _origin(scheme, rest)


def parse_host(host: str, scheme: str) -> Origin | None:
    """The request's own origin from its ``Host`` header and scheme; None if malformed."""
    if not isinstance(host, str) or len(host) > _MAX_ORIGIN or not host.isascii():
        return None
    return _origin(scheme.lower(), host.lower())


def _origin(scheme: str, host_port: str) -> Origin | None:
    split = _split_host_port(host_port)
    if split is None:
        return None
    port = _port(split[1], scheme)
    return None if port is None else Origin(scheme, split[0], port)


class CSRFPolicy:
    """The CSRF rules for one application: trusted origins, and whether a token is
    required even when the browser's headers already vouch for the request."""

    __slots__ = ("require_token", "trusted_origins")

    def __init__(self, trusted_origins: Iterable[str] = (), *, require_token: bool = False) -> None:
        if isinstance(trusted_origins, str):
            raise ConfigError("trusted_origins must be a list of origins, not a single string")
        parsed: set[Origin] = set()
        for value in trusted_origins:
            origin = parse_origin(value)
            if origin is None or origin.port == 0 or str(origin) != value.lower().rstrip("/"):
                raise ConfigError(
                    f"trusted origin {value!r} must be exactly scheme://host[:port], "
                    "e.g. 'https://app.example.com' (no path, no wildcard)"
                )
            parsed.add(origin)
        self.trusted_origins = frozenset(parsed)
        self.require_token = require_token

    def check_headers(
        self,
        method: str,
        sec_fetch_site: str | None,
        origin: str | None,
        own_origin: Origin | None,
    ) -> Decision:
        """Decide from the browser's headers alone; UNDECIDED when they do not tell."""
        if method.upper() in SAFE_METHODS:
            return ALLOW
        site = sec_fetch_site.strip().lower() if sec_fetch_site is not None else None
        parsed = parse_origin(origin.strip()) if origin is not None else None
        trusted = parsed is not None and (parsed == own_origin or parsed in self.trusted_origins)
        if site == "same-origin":
            return self._header_allow()
        if site in ("same-site", "cross-site"):
            if trusted:
                return self._header_allow()
            return _reject("cross_site", "Cross-site requests are not allowed here.")
        if origin is not None:
            if trusted:
                return self._header_allow()
            return _reject("origin", "The request's origin is not allowed here.")
        return UNDECIDED

    def check_websocket(self, origins: list[str], own_origin: Origin | None) -> Decision:
        """Decide a WebSocket handshake by its ``Origin`` (browsers always send one):
        allowed only for exactly one origin, the app's own or a trusted one. No token
        can be asked of a handshake, so a missing origin is refused too."""
        if len(origins) != 1:
            return _reject("origin", "The WebSocket handshake has no single origin.")
        parsed = parse_origin(origins[0].strip())
        if parsed is None or (parsed != own_origin and parsed not in self.trusted_origins):
            return _reject("origin", "The WebSocket handshake's origin is not allowed here.")
        return ALLOW

    def _header_allow(self) -> Decision:
        return UNDECIDED if self.require_token else ALLOW

    def check_token(self, session: Session | None, submitted: object) -> Decision:
        """Decide by the synchronizer token ``submitted`` against ``session``'s secret."""
        if submitted is None or submitted == "":
            return _reject("token_missing", "The CSRF token is missing.")
        secret = session_secret(session) if session is not None else None
        candidate = unmask(submitted)
        if secret is None or candidate is None or not hmac.compare_digest(candidate, secret):
            return _reject(
                "token_invalid", "The CSRF token is invalid or expired; reload the page."
            )
        return ALLOW


def new_secret() -> str:
    """A new session CSRF secret: 32 random bytes in URL-safe base64."""
    return secrets.token_urlsafe(_SECRET_BYTES)


def _decode(text: str, length: int) -> bytes | None:
    if len(text) != length or not _B64.issuperset(text):
        return None
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None


def session_secret(session: Session) -> bytes | None:
    """The session's CSRF secret, or None if it has none (or a malformed one)."""
    value = session.get_internal(CSRF_KEY)
    if type(value) is not str:
        return None
    raw = _decode(value, _SECRET_LENGTH)
    return raw if raw is not None and len(raw) == _SECRET_BYTES else None


def mask(secret: bytes) -> str:
    """Return a token for ``secret``: a fresh random pad, then the secret XOR the pad."""
    pad = secrets.token_bytes(len(secret))
    masked = bytes(a ^ b for a, b in zip(pad, secret, strict=True))
    return base64.urlsafe_b64encode(pad + masked).rstrip(b"=").decode()


def unmask(token: object) -> bytes | None:
    """Return the secret inside a token from ``mask``; None for anything else."""
    if type(token) is not str:
        return None
    raw = _decode(token, TOKEN_LENGTH)
    if raw is None or len(raw) != 2 * _SECRET_BYTES:
        return None
    pad, masked = raw[:_SECRET_BYTES], raw[_SECRET_BYTES:]
    return bytes(a ^ b for a, b in zip(pad, masked, strict=True))


def session_token(session: Session) -> str:
    """Return a freshly masked token for ``session``, creating its secret if needed.

    Creating the secret is a change to the session (it is then saved).
    """
    secret = session_secret(session)
    if secret is None:
        value = new_secret()
        session.set_internal(CSRF_KEY, value)
        secret = session_secret(session)
        assert secret is not None  # noqa: S101 - just stored a well-formed secret
    return mask(secret)


def rotate(session: Session) -> None:
    """Drop the session's CSRF secret; the next ``session_token`` makes a new one."""
    session.pop_internal(CSRF_KEY)


# -- form bodies ---------------------------------------------------------------------


def _media_type(content_type: str) -> tuple[str, dict[str, str]]:
    kind, *params = content_type.split(";")
    options: dict[str, str] = {}
    for param in params[:16]:
        name, _, value = param.partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        options[name.strip().lower()] = value
    return kind.strip().lower(), options


def is_form(content_type: str | None) -> bool:
    """True if a body of this content type can carry the ``_csrf`` field."""
    if not content_type:
        return False
    kind, _ = _media_type(content_type)
    return kind in ("application/x-www-form-urlencoded", "multipart/form-data")


def token_from_form(content_type: str | None, body: bytes, field: str = "_csrf") -> str | None:
    """Return the first ``field`` value of an urlencoded or multipart body, else None.

    Linear in the body size; malformed bodies give None, never an exception.
    """
    if not content_type:
        return None
    kind, options = _media_type(content_type)
    if kind == "application/x-www-form-urlencoded":
        return _from_urlencoded(body, field.encode())
    if kind == "multipart/form-data":
        boundary = options.get("boundary", "")
        if not 0 < len(boundary) <= 200 or not boundary.isascii():
            return None
        return _from_multipart(body, boundary.encode(), field)
    return None


def _text(raw: bytes) -> str | None:
    try:
        return raw.decode("ascii")
    except UnicodeDecodeError:
        return None  # a real token is ASCII; anything else cannot match


def _from_urlencoded(body: bytes, field: bytes) -> str | None:
    for pair in body.split(b"&"):
        name, sep, value = pair.partition(b"=")
        if sep and unquote_to_bytes(name.replace(b"+", b" ")) == field:
            return _text(unquote_to_bytes(value.replace(b"+", b" ")))
    return None


def _from_multipart(body: bytes, boundary: bytes, field: str) -> str | None:
    delimiter = b"--" + boundary
    want = f'name="{field}"'.lower().encode()
    start = body.find(delimiter)
    while start >= 0:
        head_start = start + len(delimiter)
        if body.startswith(b"--", head_start):
            return None  # the closing delimiter
        head_end = body.find(b"\r\n\r\n", head_start)
        if head_end < 0:
            return None
        following = body.find(b"\r\n" + delimiter, head_end + 4)
        if following < 0:
            return None
        headers = body[head_start:head_end].lower()
        for line in headers.split(b"\r\n"):
            if line.startswith(b"content-disposition:") and any(
                part.strip() == want for part in line.split(b";")
            ):
                return _text(body[head_end + 4 : following])
        start = following + 2
    return None
