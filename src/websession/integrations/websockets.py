"""Cross-site WebSocket hijacking defence, shared by ``SessionMiddleware`` and
``CSRFMiddleware``.

A browser sends the page's cookies with a WebSocket handshake from any site, and no
CSRF token can ride along; the handshake's ``Origin`` is what tells. A handshake whose
origin is missing, repeated, or neither the app's own nor a trusted one gets, by path
(``WebSocketRules``): ``"anonymous"`` (the default: an empty fresh session, no store
read), ``"close"`` (the handshake is refused with 1008, policy violation), or
``"allow"`` (no check: for non-browser clients on that path).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, MutableMapping
from typing import Any, Literal

from websession.core.csrf import CSRFPolicy, Origin, parse_host
from websession.errors import ConfigError
from websession.integrations.paths import path_matches

__all__ = ["OnForeignOrigin", "WebSocketRules", "own_origin"]

OnForeignOrigin = Literal["anonymous", "close", "allow"]
_ACTIONS: dict[str, OnForeignOrigin] = {
    "anonymous": "anonymous",
    "close": "close",
    "allow": "allow",
}
_WS_SCHEMES = {"ws": "http", "wss": "https"}

logger = logging.getLogger("websession.csrf")


def own_origin(scope: MutableMapping[str, Any]) -> Origin | None:
    """The request's own origin from its ``Host`` header (else the server address);
    a WebSocket's ``ws``/``wss`` scheme counts as ``http``/``https``, as browsers
    send the page's origin."""
    scheme = str(scope.get("scheme", "http"))
    scheme = _WS_SCHEMES.get(scheme, scheme)
    for name, value in scope.get("headers", ()):
        if name == b"host":
            return parse_host(value.decode("latin-1"), scheme)
    server = scope.get("server")
    if server is None:
        return None
    address, port = server
    return parse_host(f"{address}:{port}" if port is not None else str(address), scheme)


class WebSocketRules:
    """What a WebSocket handshake from a foreign or missing origin gets, by path.

    ``on_foreign_origin`` is one action for every path, or a mapping of path prefixes
    (matched by whole segments, the longest wins) to actions; paths no prefix matches
    get ``"anonymous"``.
    """

    __slots__ = ("by_path", "default", "policy")

    def __init__(
        self,
        policy: CSRFPolicy,
        on_foreign_origin: OnForeignOrigin | Mapping[str, OnForeignOrigin] = "anonymous",
    ) -> None:
        self.policy = policy
        if isinstance(on_foreign_origin, str):
            self.default: OnForeignOrigin = _checked(on_foreign_origin)
            self.by_path: tuple[tuple[str, OnForeignOrigin], ...] = ()
        else:
            self.default = "anonymous"
            self.by_path = tuple(
                sorted(
                    ((prefix, _checked(action)) for prefix, action in on_foreign_origin.items()),
                    key=lambda item: len(item[0]),
                    reverse=True,
                )
            )

    def action(self, scope: MutableMapping[str, Any]) -> OnForeignOrigin | None:
        """None if the handshake may have its session, else what it gets instead."""
        path = str(scope.get("path", ""))
        action = next((a for p, a in self.by_path if path_matches(path, p)), self.default)
        if action == "allow":
            return None
        origins = [v.decode("latin-1") for n, v in scope.get("headers", ()) if n == b"origin"]
        decision = self.policy.check_websocket(origins, own_origin(scope))
        if decision.allowed:
            return None
        logger.warning("WebSocket handshake refused its session (%s): %r", decision.reason, path)
        return action


def _checked(action: str) -> OnForeignOrigin:
    if action not in _ACTIONS:
        raise ConfigError(
            f"a WebSocket origin action is 'anonymous', 'close' or 'allow', not {action!r}"
        )
    return _ACTIONS[action]
