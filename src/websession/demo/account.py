"""Account pages: register, log in (the session is regenerated), log out, change password.

A form error is flashed and the form shown again with the typed user name kept (in
the session, never in the URL). The old session's store-key prefix is remembered at
login so that the pages can show the session id changing.
"""

from __future__ import annotations

from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response

from websession.auth import AuthError, User
from websession.auth.web import client_info, safe_next
from websession.demo.render import redirect, render, web
from websession.integrations.asgi import get_session

__all__ = [
    "PREVIOUS_ID",
    "TYPED_NAME",
    "change_password",
    "login",
    "login_page",
    "logout",
    "logout_everywhere",
    "password_page",
    "register",
    "register_page",
    "short_id",
]

TYPED_NAME = "demo_typed_username"
"""Session key: the user name typed into a form that failed, shown again once."""
PREVIOUS_ID = "demo_previous_id"
"""Session key: the store-key prefix this session had before login regenerated it."""


def short_id(key: str | None) -> str | None:
    """The first 12 characters of a store key: enough to tell sessions apart."""
    return key[:12] if key else None


async def _credentials_page(
    request: Request, template: str, title: str, next_path: str = ""
) -> Response:
    typed = get_session(request).pop(TYPED_NAME, "")
    minimum = web(request).config.min_password_length
    return await render(
        request, template, title, typed=typed, min_password=minimum, next_path=next_path
    )


async def register_page(request: Request) -> Response:
    """The registration form; the password rules are shown before the first try."""
    return await _credentials_page(request, "register.html", "Create an account")


async def register(request: Request) -> Response:
    """Create the account and log it in."""
    form = await request.form()
    username, password = str(form.get("username", "")), str(form.get("password", ""))
    session = get_session(request)
    previous = short_id(session.key)
    try:
        user = await web(request).auth.register_user(username, password)
        await web(request).login(request, username, password)
    except AuthError as exc:
        session.flash(exc.message, "error")
        session[TYPED_NAME] = username[:64]
        return redirect("/register")
    request.app.state.admins.registered(user)
    session[PREVIOUS_ID] = previous
    session.flash(f"Welcome, {user.username}! Your account is ready.")
    return redirect("/")


async def login_page(request: Request) -> Response:
    """The login form."""
    next_path = safe_next(request.query_params.get("next"), "")
    return await _credentials_page(request, "login.html", "Log in", next_path=next_path)


async def login(request: Request) -> Response:
    """Check the password: regenerate the session, bind the user, record the device."""
    form = await request.form()
    next_path = safe_next(form.get("next"))
    username = str(form.get("username", ""))
    session = get_session(request)
    previous = short_id(session.key)
    try:
        user: User = await web(request).login(request, username, str(form.get("password", "")))
    except AuthError as exc:
        session.flash(exc.message, "error")
        session[TYPED_NAME] = username[:64]
        query = f"?next={quote(next_path, safe='/')}" if next_path != "/" else ""
        return redirect(f"/login{query}")
    session[PREVIOUS_ID] = previous
    session.flash(f"Welcome back, {user.username}!")
    return redirect(next_path)


async def logout(request: Request) -> Response:
    """Revoke this session, then flash a goodbye in a fresh one."""
    await web(request).logout(request)
    get_session(request).flash("You have been logged out.")
    return redirect("/")


async def logout_everywhere(request: Request) -> Response:
    """Revoke every session of the user, this one included."""
    revoked = await web(request).logout(request, everywhere=True)
    get_session(request).flash(
        f"You have been logged out everywhere ({revoked} session{'' if revoked == 1 else 's'})."
    )
    return redirect("/")


async def password_page(request: Request) -> Response:
    """The password change form (needs a recent login)."""
    return await render(
        request,
        "password.html",
        "Change password",
        min_password=web(request).config.min_password_length,
    )


async def change_password(request: Request) -> Response:
    """Change the password; the other sessions are revoked."""
    form = await request.form()
    user: User = request.state.user
    session = get_session(request)
    ip, _ = client_info(request)
    try:
        revoked = await web(request).auth.change_password(
            user.id, str(form.get("current", "")), str(form.get("new", "")), session=session, ip=ip
        )
    except AuthError as exc:
        session.flash(exc.message, "error")
        return redirect("/password")
    others = f"{revoked} other session{' was' if revoked == 1 else 's were'}"
    session.flash(f"Your password was changed; {others} signed out.")
    return redirect("/")
