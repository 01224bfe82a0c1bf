"""The caching headers a session adds to a response, shared by every integration.

- A response that sets the session cookie gets ``Cache-Control: no-store`` (replacing
  the application's): no shared cache may keep someone's cookie.
- A response of a session bound to a user (``user_id`` set) gets
  ``Cache-Control: no-store`` unless the application set ``Cache-Control`` itself:
  private pages do not survive logout in the browser's cache (set your own header,
  e.g. ``private, max-age=60``, to override).
- A response whose session was read or written gets ``Vary: Cookie``; an existing
  ``Vary`` is matched by field name (``X-Cookie-Consent`` is not ``Cookie``).
"""

from __future__ import annotations

__all__ = ["has_vary_field", "response_headers"]

Headers = list[tuple[bytes, bytes]]


def response_headers(
    headers: Headers, set_cookie: bytes | None, *, vary: bool, private: bool
) -> Headers:
    """Return ``headers`` (raw ASGI pairs) with the session's caching headers."""
    if set_cookie is not None:
        headers = [(n, v) for n, v in headers if n.lower() != b"cache-control"]
        headers.append((b"set-cookie", set_cookie))
        headers.append((b"cache-control", b"no-store"))
    elif private and not any(n.lower() == b"cache-control" for n, _ in headers):
        headers.append((b"cache-control", b"no-store"))
    if vary:
        _add_vary_cookie(headers)
    return headers


def has_vary_field(values: list[str], field: str) -> bool:
    """True if the ``Vary`` header values already name ``field`` (or ``*``)."""
    wanted = field.lower()
    for value in values:
        for item in value.split(","):
            name = item.strip().lower()
            if name in (wanted, "*"):
                return True
    return False


def _add_vary_cookie(headers: Headers) -> None:
    first = -1  # one pass: most responses have no Vary header at all
    for i, (name, value) in enumerate(headers):
        if name.lower() == b"vary":
            if has_vary_field([value.decode("latin-1")], "cookie"):
                return
            if first < 0:
                first = i
    if first < 0:
        headers.append((b"vary", b"Cookie"))
        return
    name, value = headers[first]
    headers[first] = (name, value + b", Cookie" if value.strip() else b"Cookie")
