"""The Django engine's rules, free of I/O: keys, deadlines and patches.

Django keeps a custom expiry (``set_expiry()``) in the session data under
``_session_expiry``: seconds of inactivity (0: until the browser closes) or an ISO
date. It becomes the record's idle deadline, capped by the absolute deadline; a date
in the past ends the session at once. Without one, the idle deadline is the
configuration's (``SESSION_COOKIE_AGE`` unless ``WEBSESSION`` says otherwise). Every
other rule is ``core.lifecycle``'s.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from websession.config import SessionConfig
from websession.core.jsondata import dumps
from websession.core.lifecycle import Deadlines, Lifecycle
from websession.core.signing import Signer, Verified
from websession.core.tokens import hash_token, new_token
from websession.types import Changes, Clock, Record, SessionKey

__all__ = ["EXPIRY_KEY", "Policy", "snapshot"]

EXPIRY_KEY = "_session_expiry"
"""Where Django's ``set_expiry()`` keeps a session's custom expiry."""


def snapshot(data: Mapping[str, Any]) -> dict[str, bytes]:
    """The JSON of each value: what a later save compares against to patch only the
    keys that changed (in-place mutations included)."""
    return {name: dumps(value) for name, value in data.items()}


class Policy:
    """Signing, deadlines and patches for one configuration. No I/O."""

    __slots__ = ("clock", "config", "lifecycle", "signer")

    def __init__(self, config: SessionConfig, clock: Clock = time.time) -> None:
        self.config = config
        self.lifecycle = Lifecycle(config)
        self.signer = Signer(config.verifying_secrets)
        self.clock = clock

    # -- keys --------------------------------------------------------------------------

    def verify(self, session_key: str | None) -> Verified | None:
        """The verified token of a signed session key; None if it is absent or forged."""
        return None if not session_key else self.signer.verify(session_key)

    def store_key(self, session_key: str | None) -> SessionKey | None:
        """The store key (the token's hash) of a validly signed session key."""
        verified = self.verify(session_key)
        return None if verified is None else verified.key

    def mint(self) -> tuple[str, SessionKey]:
        """A new signed session key and its store key."""
        token = new_token()
        return self.signer.sign(token), hash_token(token)

    def is_live(self, record: Record | None) -> bool:
        """True if ``record`` may be served now."""
        return self.lifecycle.is_live(record, self.clock())

    def refresh_due(self, record: Record) -> bool:
        """True if an untouched session should have its deadline extended now."""
        return self.lifecycle.refresh_due(record, self.clock()) is not None

    # -- deadlines -----------------------------------------------------------------------

    def _deadline(self, data: Mapping[str, Any], now: float, absolute: float) -> float:
        expiry = data.get(EXPIRY_KEY)
        at = now + self.lifecycle.idle
        if isinstance(expiry, str):
            with contextlib.suppress(ValueError):  # not a date: the default deadline
                at = datetime.fromisoformat(expiry).timestamp()
        elif isinstance(expiry, int | float) and not isinstance(expiry, bool) and expiry:
            at = now + expiry
        return min(at, absolute)

    def _record(self, base: Deadlines, data: dict[str, Any], user_id: str | None) -> Record | None:
        self.lifecycle.check_size(data)
        expires = self._deadline(data, base.last_seen, base.absolute_expires_at)
        if expires <= base.last_seen:
            return None
        return Record(
            dict(data), base.created_at, base.last_seen, expires, base.absolute_expires_at, user_id
        )

    def new_record(self, data: dict[str, Any], user_id: str | None) -> Record | None:
        """The record of a new session; None if its custom expiry has passed."""
        return self._record(self.lifecycle.new(self.clock()), data, user_id)

    def carried_record(
        self, base: Record, data: dict[str, Any], user_id: str | None
    ) -> Record | None:
        """The record that replaces ``base`` under a new key (creation time and absolute
        deadline kept); None if its custom expiry has passed."""
        return self._record(self.lifecycle.carried(base, self.clock()), data, user_id)

    def changes(
        self,
        base: Record,
        data: Mapping[str, Any],
        before: Mapping[str, bytes],
        user: tuple[bool, str | None],
    ) -> Changes | None:
        """The patch that brings ``base`` to ``data`` (only keys whose JSON differs from
        ``before``) and the user binding ``user`` (changed, id); None if the custom
        expiry has passed (the session ends now)."""
        self.lifecycle.check_size(data)
        now = self.clock()
        expires = self._deadline(data, now, base.absolute_expires_at)
        if expires <= now:
            return None
        changed = {k: v for k, v in data.items() if before.get(k) != dumps(v)}
        removed = frozenset(k for k in before if k not in data)
        return Changes(
            last_seen=now,
            expires_at=expires,
            set=changed,
            remove=removed,
            set_user=user[0],
            user_id=user[1],
        )
