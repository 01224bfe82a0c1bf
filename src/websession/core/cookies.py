"""Cookie codec: find a cookie in request headers, build and parse ``Set-Cookie``.

Parsing is linear in the header size, skips malformed pairs without losing the
others, reads every ``Cookie`` header, and matches only the exact cookie name.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any, Literal

__all__ = ["MAX_COOKIE_HEADER", "SetCookie", "cookie_values", "parse_cookie_header"]

MAX_COOKIE_HEADER = 16 * 1024
"""Cookie header bytes read per request; the rest is ignored (browsers send < 8 KiB)."""

_TOKEN_CHARS = frozenset(
    "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
)
# RFC 6265 cookie-octet: printable ASCII except space, DQUOTE, comma, semicolon, backslash.
_VALUE_CHARS = frozenset(chr(c) for c in range(0x21, 0x7F)) - set('",;\\')
_VALUE_RE = re.compile(r"[!#-+\--:<-\[\]-~]*")
"""The same cookie-octets as one regular expression (a C loop, for the hot path)."""
_ATTR_STOPS = frozenset(";\r\n\x00")
"""Characters that would end or split a Path or Domain attribute."""
_set = object.__setattr__


def cookie_values(headers: Iterable[str], name: str) -> list[str]:
    """Return every value sent for cookie ``name``, in order, across all headers.

    Browsers send the most specific cookie first; callers try them in order. Values in
    double quotes are unquoted. Pairs without ``=`` and other malformed pairs are skipped.
    """
    found: list[str] = []
    budget = MAX_COOKIE_HEADER
    for header in headers:
        if budget <= 0:
            break
        if len(header) > budget:
            header = header[:budget]
        budget -= len(header)
        if name not in header:
            continue
        if ";" not in header:  # one cookie (as in most requests): no list of pairs
            key, sep, value = header.partition("=")
            if sep and key.strip() == name:
                found.append(_unquote(value.strip()))
            continue
        for pair in header.split(";"):
            key, sep, value = pair.partition("=")
            if sep and key.strip() == name:
                found.append(_unquote(value.strip()))
    return found


def parse_cookie_header(header: str) -> dict[str, str]:
    """Return all cookies of one ``Cookie`` header; the first of a repeated name wins."""
    cookies: dict[str, str] = {}
    for pair in header[:MAX_COOKIE_HEADER].split(";"):
        key, sep, value = pair.partition("=")
        key = key.strip()
        if sep and key and key not in cookies:
            cookies[key] = _unquote(value.strip())
    return cookies


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
        return value[1:-1]
    return value


@dataclass(frozen=True, slots=True)
class SetCookie:
    """One ``Set-Cookie`` header, rendered from fields rather than pasted strings."""

    name: str
    value: str
    path: str | None = "/"
    domain: str | None = None
    max_age: int | None = None
    expires: datetime | None = None
    secure: bool = False
    http_only: bool = False
    same_site: Literal["lax", "strict", "none"] | None = None
    partitioned: bool = False

    def __post_init__(self) -> None:
        if not self.name or not _TOKEN_CHARS.issuperset(self.name):
            raise ValueError(f"invalid cookie name {self.name!r}")
        if not _VALUE_CHARS.issuperset(self.value):
            raise ValueError("cookie value has characters a cookie cannot carry")
        if self.path is not None and not _ATTR_STOPS.isdisjoint(self.path):
            raise ValueError(f"invalid cookie path {self.path!r}")
        if self.domain is not None and not _ATTR_STOPS.isdisjoint(self.domain):
            raise ValueError(f"invalid cookie domain {self.domain!r}")

    def render(self) -> str:
        """Return the header value."""
        parts = [f"{self.name}={self.value}"]
        if self.domain is not None:
            parts.append(f"Domain={self.domain}")
        if self.path is not None:
            parts.append(f"Path={self.path}")
        if self.max_age is not None:
            parts.append(f"Max-Age={self.max_age}")
        if self.expires is not None:
            parts.append(f"Expires={format_datetime(self.expires.astimezone(UTC), usegmt=True)}")
        if self.secure:
            parts.append("Secure")
        if self.http_only:
            parts.append("HttpOnly")
        if self.same_site is not None:
            parts.append(f"SameSite={self.same_site.capitalize()}")
        if self.partitioned:
            parts.append("Partitioned")
        return "; ".join(parts)

    def with_value(self, value: str, max_age: int | None) -> SetCookie:
        """A copy with ``value`` and ``max_age`` (name and attributes were checked when
        this one was made; only the value is checked): the per-request cookie of a
        fixed configuration, at a fraction of the constructor's cost."""
        if _VALUE_RE.fullmatch(value) is None:
            raise ValueError("cookie value has characters a cookie cannot carry")
        cookie = object.__new__(SetCookie)
        _set(cookie, "name", self.name)
        _set(cookie, "value", value)
        _set(cookie, "path", self.path)
        _set(cookie, "domain", self.domain)
        _set(cookie, "max_age", max_age)
        _set(cookie, "expires", self.expires)
        _set(cookie, "secure", self.secure)
        _set(cookie, "http_only", self.http_only)
        _set(cookie, "same_site", self.same_site)
        _set(cookie, "partitioned", self.partitioned)
        return cookie

    @classmethod
    def parse(cls, header: str) -> SetCookie:
        """Parse a ``Set-Cookie`` header value (used by tests and tools)."""
        first, *attributes = header.split(";")
        name, sep, value = first.partition("=")
        if not sep:
            raise ValueError(f"not a Set-Cookie header: {header!r}")
        fields: dict[str, Any] = {}
        for attribute in attributes:
            key, _, raw = attribute.strip().partition("=")
            key = key.lower()
            if key == "path":
                fields["path"] = raw
            elif key == "domain":
                fields["domain"] = raw
            elif key == "max-age":
                fields["max_age"] = int(raw)
            elif key == "expires":
                fields["expires"] = parsedate_to_datetime(raw)
            elif key == "secure":
                fields["secure"] = True
            elif key == "httponly":
                fields["http_only"] = True
            elif key == "samesite":
                fields["same_site"] = raw.lower()
            elif key == "partitioned":
                fields["partitioned"] = True
        return dataclasses.replace(cls(name.strip(), _unquote(value.strip()), path=None), **fields)

    @property
    def deletes(self) -> bool:
        """True if this header tells the browser to drop the cookie."""
        return self.max_age is not None and self.max_age <= 0
