"""The session object handed to applications: a ``dict`` plus the session's operations.

``Session`` is what ``request.session`` is. It is a real ``dict`` (as Flask's and
Starlette's sessions are), so ``json``, ``orjson`` and ``JSONResponse`` serialize it as
it is; its changes are tracked (``core.tracking``), so a save writes only the keys that
changed. On top: regenerate, destroy, the user binding, ``permanent``, flash messages.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from websession.core.flash import FLASH_KEY, add_flash, take_flashes
from websession.core.jsondata import RESERVED_PREFIX, REVOKED_KEY, check_key
from websession.core.tracking import TrackedDict
from websession.types import JSONValue, Record, SessionKey

__all__ = ["CSRF_KEY", "DEVICE_KEY", "FLASH_KEY", "PERMANENT_KEY", "REVOKED_KEY", "Session"]

CSRF_KEY = RESERVED_PREFIX + "csrf"
"""The session's CSRF secret; dropped when the session is regenerated."""
DEVICE_KEY = RESERVED_PREFIX + "device"
"""Device metadata recorded at login (IP address, user agent)."""
PERMANENT_KEY = RESERVED_PREFIX + "permanent"
"""The session's own ``permanent`` choice, kept only while it differs from the
configuration's default. It is not content: a session holding only it is empty."""


class Session(TrackedDict):
    """Session data plus the operations on the session itself.

    Reading marks the session accessed (responses then carry ``Vary: Cookie``);
    setting or removing a key marks it modified. Values must be JSON (subclasses of
    the JSON types are stored as their base type). A session emptied in a request
    (``clear()``, or removing its last key) ends like ``destroy()``.

    ``Session(data)`` makes a new, unstored session holding ``data`` (for tests and
    tools); backends pass the stored ``Record``.
    """

    __slots__ = (
        "_default_permanent",
        "_destroyed",
        "_record",
        "_regenerate",
        "_user_changed",
        "_user_id",
        "key",
        "origin",
        "signed",
        "stale_signature",
        "token",
    )

    def __init__(
        self,
        record: Record | Mapping[str, Any] | None = None,
        *,
        token: str | None = None,
        key: SessionKey | None = None,
        stale_signature: bool = False,
        signed: str | None = None,
        origin: object = None,
        permanent: bool = True,
    ) -> None:
        self.accessed = False  # TrackedDict's state, set here: one call less per request
        self._set: set[str] = set()
        self._removed: set[str] = set()
        self._snapshots: dict[str, bytes | None] = {}
        self._record: Record | None = None
        self._user_id: str | None = None
        if record is not None:
            if isinstance(record, Record):
                dict.update(self, self.from_stored(record.data) if self._converts else record.data)
                self._record = record
                self._user_id = record.user_id
            else:
                for name, value in record.items():
                    dict.__setitem__(self, check_key(name), self._checked(name, value))
        self.token = token
        """The raw token when the session exists in the store (never log it)."""
        self.key = key
        """The store key (hash of the token) when the session exists in the store."""
        self.stale_signature = stale_signature
        self.origin = origin
        """What the backend opened the session from, beyond the token (the encrypted
        cookie's payload); opaque to applications."""
        self.signed = signed
        """The cookie value as the browser sent it, when still signed by the current secret."""
        self._default_permanent = permanent
        self._regenerate = False
        self._destroyed = False
        self._user_changed = False

    def __repr__(self) -> str:
        new = self._record is None or self._destroyed
        return f"<{type(self).__name__} keys={sorted(dict.keys(self))!r} new={new}>"

    def clear(self) -> None:
        """Remove every key: the session ends at the end of the request (unless data
        is set again, or it has a user)."""
        super().clear()

    # -- Starlette's and Flask's flags -----------------------------------------------------

    def mark_modified(self) -> None:
        """Write every key back at the end of the request (as ``modified = True``)."""
        self.rewrite_all()

    @property
    def modified(self) -> bool:
        """True if data or the user binding changed in this request."""
        return self._user_changed or self.data_changed()

    @modified.setter
    def modified(self, value: bool) -> None:
        """True (Flask's idiom after an in-place change) writes every key back; False
        forgets the data changes made so far (Flask's idiom to skip a save). A change
        of ``user_id``, ``regenerate()`` and ``destroy()`` are kept either way."""
        if value:
            self.rewrite_all()
        else:
            self.forget_changes()

    @property
    def permanent(self) -> bool:
        """Whether the cookie outlives the browser (Max-Age up to the idle deadline)
        or is a browser-session cookie. Defaults to ``SessionConfig.permanent``; set
        it per session ("remember me"): the choice is kept in the session."""
        self.accessed = True
        value = dict.get(self, PERMANENT_KEY)
        return self._default_permanent if value is None else value is True

    @permanent.setter
    def permanent(self, value: bool) -> None:
        value = bool(value)
        if value == self.permanent:
            return
        if value == self._default_permanent:
            self.pop_internal(PERMANENT_KEY)
        else:
            self.set_internal(PERMANENT_KEY, value)

    # -- websession's own keys ------------------------------------------------------

    def get_internal(self, name: str) -> Any:
        """Return websession's own value ``name`` (a reserved key), or None."""
        self.accessed = True
        return dict.get(self, _reserved(name))

    def set_internal(self, name: str, value: Any) -> None:
        """Set websession's own value ``name`` (a reserved key); tracked like any change."""
        self._put(_reserved(name), value)

    def pop_internal(self, name: str) -> Any:
        """Remove and return websession's own value ``name`` (a reserved key), or None."""
        return self.pop(_reserved(name), None)

    # -- session operations ------------------------------------------------------

    def regenerate(self) -> None:
        """Give the session a new token at the end of this request, keeping its data.

        Call it on login and on any privilege change; the old token stops working at
        once (session fixation defence). The CSRF secret is dropped at once, so a
        token asked for after this call belongs to the new session.
        """
        self._regenerate = True
        self.pop_internal(CSRF_KEY)

    def destroy(self) -> None:
        """Delete the session server-side and expire the cookie.

        Data set after this call goes into a brand-new session with a new token.
        """
        self._destroyed = True
        self.clear()
        self._set.clear()
        self._removed.clear()
        self._user_id = None
        self._user_changed = False

    @property
    def user_id(self) -> str | None:
        """The user this session belongs to (feeds the per-user index). A session
        bound to a user is not empty, whatever its data. Reading it marks the
        session accessed (the response then varies by cookie).

        Setting it to a new user on a stored session gives the session a new token
        at the end of the request, as ``regenerate()`` does (session fixation
        defence even when the application forgets to call it)."""
        self.accessed = True
        return self._user_id

    @user_id.setter
    def user_id(self, value: str | None) -> None:
        if value is not None and (type(value) is not str or not value):
            raise TypeError("user_id must be a non-empty str or None")
        if value != self._user_id:
            self._user_id = value
            self._user_changed = True

    def flash(self, message: str, category: str = "message") -> None:
        """Queue a message for the next request that reads flashes."""
        self._put(FLASH_KEY, add_flash(dict.get(self, FLASH_KEY), message, category))

    def pop_flashes(self, category: str | None = None) -> list[tuple[str, str]]:
        """Return queued flash messages as ``(category, message)`` and forget them.

        With ``category``, only those messages are returned and removed. A message
        Flask stored as ``Markup`` comes back as its HTML text (a plain ``str``).
        """
        queued = dict.get(self, FLASH_KEY)
        if not queued:
            return []
        taken, kept = take_flashes(queued, category)
        if kept:
            self._put(FLASH_KEY, kept)
        else:
            del self[FLASH_KEY]
        return taken

    # -- state ---------------------------------------------------------------------

    def has_content(self) -> bool:
        """True if the session holds data (beyond its ``permanent`` choice) or a user;
        without marking it accessed. An empty session is never stored."""
        if self._user_id is not None:
            return True
        size = dict.__len__(self)
        return size > 1 or (size == 1 and not dict.__contains__(self, PERMANENT_KEY))

    @property
    def is_new(self) -> bool:
        """True until the session exists in the store (or after ``destroy()``)."""
        self.accessed = True
        return self._record is None or self._destroyed

    @property
    def record(self) -> Record | None:
        """The record the session was loaded from, if any (its data as loaded)."""
        return self._record

    @property
    def created_at(self) -> datetime | None:
        """When the stored session was created (None while new)."""
        record = self._stored()
        return None if record is None else _dt(record.created_at)

    @property
    def last_seen(self) -> datetime | None:
        """When the stored session was last written or refreshed (None while new)."""
        record = self._stored()
        return None if record is None else _dt(record.last_seen)

    @property
    def expires_at(self) -> datetime | None:
        """The stored idle deadline (None while new)."""
        record = self._stored()
        return None if record is None else _dt(record.expires_at)

    def _stored(self) -> Record | None:
        self.accessed = True
        return None if self._destroyed else self._record

    @property
    def bound_to_user(self) -> bool:
        """True if the session has a user, without marking it accessed (for
        integrations deciding on ``Cache-Control``)."""
        return self._user_id is not None

    @property
    def binds_new_user(self) -> bool:
        """True if ``user_id`` was set to a user in this request (the token rotates)."""
        return self._user_changed and self._user_id is not None

    @property
    def regenerating(self) -> bool:
        """True if ``regenerate()`` was called in this request."""
        return self._regenerate

    @property
    def destroyed(self) -> bool:
        """True if ``destroy()`` was called in this request."""
        return self._destroyed

    def pending_changes(self) -> tuple[dict[str, JSONValue], frozenset[str], bool]:
        """Return the keys set (with their stored values), the keys removed, and
        whether the user binding changed; values mutated in place are checked for
        JSON here (SessionDataError naming the key)."""
        if not self._converts and not self._snapshots:  # the common case, inlined
            get = dict.__getitem__
            changed = {name: get(self, name) for name in self._set}
            return changed, frozenset(self._removed), self._user_changed
        changed, removed = self.data_changes()
        return changed, removed, self._user_changed


def _reserved(name: str) -> str:
    if not name.startswith(RESERVED_PREFIX):
        raise ValueError(f"internal session keys start with {RESERVED_PREFIX!r}, not {name!r}")
    return name


def _dt(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)
