"""Django auth and the store's per-user index: binding, logout everywhere, devices.

Django's ``user_logged_in`` signal binds the request's session to the user (its
``user_id``, the store's per-user index) and records the device (address, user
agent); ``user_logged_out`` unbinds it. With that, logging a user out of every
device, or listing their devices, is one call::

    from websession.integrations.django import devices, logout_everywhere

    logout_everywhere(request.user, keep=request)    # "sign out other devices"
    for device in devices(request.user, current=request): ...

A user's sessions are found through the store's ``UserIndex`` ability, in time
proportional to that user's sessions, and revoked as ``websession.auth`` revokes them
(``websession.auth`` revocation: kept until their deadline, never served again), so
every integration sharing the store (ASGI, Flask) sees them ended. These helpers need
the ``auth`` extra (``pip install 'websession[django,auth]'``); the engine does not.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib.auth.signals import user_logged_in, user_logged_out

from websession.core.session import DEVICE_KEY
from websession.integrations.django import settings as engine_settings
from websession.integrations.django.store import SessionStore
from websession.types import Record, SessionKey

if TYPE_CHECKING:
    from websession.auth.devices import Device

__all__ = ["adevices", "alogout_everywhere", "devices", "logout_everywhere", "user_key"]

MAX_USER_AGENT = 256


def user_key(user: Any) -> str:
    """The ``user_id`` a Django user's sessions are bound to: its primary key as text."""
    return str(user.pk)


def _session_of(holder: Any) -> SessionStore | None:
    session = getattr(holder, "session", holder)
    return session if isinstance(session, SessionStore) else None


def _keep(holder: Any) -> SessionKey | None:
    session = _session_of(holder)
    return None if session is None else session.store_key()


def _bind(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    session = _session_of(request)
    if session is None or user is None:
        return
    session.bind_user(user_key(user))
    meta = getattr(request, "META", {})
    agent = meta.get("HTTP_USER_AGENT")
    session[DEVICE_KEY] = {
        "ip": meta.get("REMOTE_ADDR"),
        "user_agent": agent[:MAX_USER_AGENT] if isinstance(agent, str) else None,
    }


def _unbind(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    session = _session_of(request)
    if session is not None:
        session.bind_user(None)


user_logged_in.connect(_bind, dispatch_uid="websession.django.bind_user")
user_logged_out.connect(_unbind, dispatch_uid="websession.django.unbind_user")


def logout_everywhere(user: Any, *, keep: Any = None) -> int:
    """Revoke every live session of ``user`` except the one of ``keep`` (a request or a
    session), as ``websession.auth`` does; return how many. Needs the ``auth`` extra."""
    from websession.auth._sync.revocation import indexed, revoke_user

    settings = engine_settings.current()
    store = indexed(engine_settings.shared_store(settings.store_url).sync())
    return revoke_user(store, user_key(user), settings.policy.clock(), keep=_keep(keep))


async def alogout_everywhere(user: Any, *, keep: Any = None) -> int:
    """See ``logout_everywhere``."""
    from websession.auth._async.revocation import indexed_async, revoke_user

    settings = engine_settings.current()
    store = indexed_async(engine_settings.shared_store(settings.store_url).async_())
    return await revoke_user(store, user_key(user), settings.policy.clock(), keep=_keep(keep))


def _devices(found: list[tuple[SessionKey, Record]], current: SessionKey | None) -> list[Device]:
    from websession.auth.devices import device_of

    return [device_of(key, record, current=key == current) for key, record in found]


def devices(user: Any, *, current: Any = None) -> list[Device]:
    """The live sessions of ``user``, oldest first, as ``websession.auth.Device``
    (``current`` marks the one of that request or session). Needs the ``auth`` extra."""
    from websession.auth._sync.revocation import indexed, live_sessions

    settings = engine_settings.current()
    store = indexed(engine_settings.shared_store(settings.store_url).sync())
    found = live_sessions(store, user_key(user), settings.policy.clock())
    return _devices(found, _keep(current))


async def adevices(user: Any, *, current: Any = None) -> list[Device]:
    """See ``devices``."""
    from websession.auth._async.revocation import indexed_async, live_sessions

    settings = engine_settings.current()
    store = indexed_async(engine_settings.shared_store(settings.store_url).async_())
    found = await live_sessions(store, user_key(user), settings.policy.clock())
    return _devices(found, _keep(current))
