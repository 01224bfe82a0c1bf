"""Devices and the admin view: where a user is signed in, and signing sessions out.

The admin view lists and revokes any user's sessions. It is open only to the users
named in ``WEBSESSION_DEMO_ADMIN`` (comma separated), or, when that is not set, to the
first account registered since the demo server started.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from websession.auth import Device, User
from websession.auth.users import username_key
from websession.demo.render import redirect, render, web
from websession.demo.useragent import device_name
from websession.integrations.asgi import get_session

__all__ = [
    "Admins",
    "admin_page",
    "admin_revoke",
    "admin_revoke_all",
    "devices",
    "revoke_device",
    "revoke_others",
]


class Admins:
    """Who may use the admin view: the named users, else the first one registered."""

    def __init__(self, names: Iterable[str] = ()) -> None:
        self.names = frozenset(username_key(n.strip()) for n in names if n.strip())
        self.first: str | None = None
        """The id of the first user registered since start (used when no names are set)."""

    def registered(self, user: User) -> None:
        """Note a new account (the first becomes admin when no names are configured)."""
        if self.first is None:
            self.first = user.id

    def allows(self, user: User | None) -> bool:
        """True if ``user`` may use the admin view."""
        if user is None:
            return False
        if self.names:
            return user.username_key in self.names
        return user.id == self.first

    def describe(self) -> str:
        """Who the admin is, in words, for the pages."""
        if self.names:
            return "the users named in WEBSESSION_DEMO_ADMIN"
        return "the first account registered since the demo started"


def _rows(listed: list[Device]) -> list[dict[str, Any]]:
    rows = []
    for device in listed:
        name = device_name(device.user_agent)
        rows.append(
            {
                "id": device.id,
                "name": name,
                "agent": device.user_agent or "",
                "ip": device.ip or "unknown",
                "created": device.created_at,
                "last_seen": device.last_seen,
                "current": device.current,
                "label": f"Sign out {name}, signed in "
                f"{device.created_at.strftime('%Y-%m-%d %H:%M:%S UTC')}",
            }
        )
    return rows


async def devices(request: Request) -> Response:
    """Where the user is signed in."""
    user: User = request.state.user
    listed = await web(request).auth.list_sessions(user.id, current=get_session(request))
    return await render(
        request,
        "devices.html",
        "Your devices",
        rows=_rows(listed),
        others=any(not d.current for d in listed),
    )


async def revoke_device(request: Request) -> Response:
    """Sign out one device."""
    form = await request.form()
    user: User = request.state.user
    session = get_session(request)
    if await web(request).auth.revoke_device(user.id, str(form.get("device", ""))):
        session.flash("That device has been signed out.")
    else:
        session.flash("That device was already signed out.", "error")
    return redirect("/devices")


async def revoke_others(request: Request) -> Response:
    """Sign out every device but this one."""
    user: User = request.state.user
    session = get_session(request)
    revoked = await web(request).auth.logout_user(user.id, keep=session)
    session.flash(f"Signed out {revoked} other device{'s' if revoked != 1 else ''}.")
    return redirect("/devices")


# -- admin ---------------------------------------------------------------------------


async def _refused(request: Request) -> Response | None:
    admins: Admins = request.app.state.admins
    if admins.allows(request.state.user):
        return None
    return await render(
        request,
        "forbidden.html",
        "Admins only",
        status_code=403,
        who=admins.describe(),
    )


async def admin_page(request: Request) -> Response:
    """Find a user by name and list their live sessions."""
    refused = await _refused(request)
    if refused is not None:
        return refused
    name = request.query_params.get("user", "").strip()[:64]
    target = await web(request).auth.users.find(name) if name else None
    rows = None
    if target is not None:
        listed = await web(request).auth.list_sessions(target.id, current=get_session(request))
        rows = _rows(listed)
    return await render(
        request,
        "admin.html",
        "Admin: sessions by user",
        name=name,
        target=target,
        rows=rows,
        who=request.app.state.admins.describe(),
    )


async def _admin_post(request: Request) -> tuple[User, FormData] | Response:
    """The user an admin form names, and the form; or the answer when there is none."""
    refused = await _refused(request)
    if refused is not None:
        return refused
    form = await request.form()
    target = await web(request).auth.users.get(str(form.get("user_id", "")))
    if target is None:
        get_session(request).flash("No such user.", "error")
        return redirect("/admin")
    return target, form


async def admin_revoke(request: Request) -> Response:
    """Revoke one session of a user."""
    found = await _admin_post(request)
    if isinstance(found, Response):
        return found
    target, form = found
    session = get_session(request)
    if await web(request).auth.revoke_device(target.id, str(form.get("device", ""))):
        session.flash(f"Signed out one session of {target.username}.")
    else:
        session.flash("That session was already signed out.", "error")
    return redirect(f"/admin?user={quote(target.username)}")


async def admin_revoke_all(request: Request) -> Response:
    """Revoke every session of a user (but the admin's own)."""
    found = await _admin_post(request)
    if isinstance(found, Response):
        return found
    target, _ = found
    session = get_session(request)
    revoked = await web(request).auth.logout_user(target.id, keep=session)
    session.flash(
        f"Signed out {revoked} session{'' if revoked == 1 else 's'} of {target.username}."
    )
    return redirect(f"/admin?user={quote(target.username)}")
