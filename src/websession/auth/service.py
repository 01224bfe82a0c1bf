"""The auth service: users, login, authenticate, refresh, logout, devices, passwords.

``AsyncAuth`` (ASGI apps) and ``Auth`` (WSGI apps, scripts) have the same methods: the
async service is written once in ``websession.auth._async`` and the sync one is
generated from it into ``websession.auth._sync`` (scripts/generate_sync.py). Both sit
on a session store (the one the session middleware uses) and a user store::

    sessions = open_async_store("sqlite:///sessions.db")
    auth = AsyncAuth(sessions, "sqlite:///users.db", session_config=config)
    app.add_middleware(SessionMiddleware, store=sessions, config=config)

    user = await auth.login(get_session(request), name, password, ip=..., user_agent=...)

Two ways to hold a login:

* a **middleware session** (cookies): ``login(session, ...)`` regenerates the request's
  session and binds it to the user; the middleware writes it when the response starts;
* an **issued session** (API clients): ``login_token(...)`` stores a new session and
  returns its signed token, to be sent back as a cookie value or a bearer token.

Either way the session is a record of the session store, bound to the user through
the per-user index, with device metadata under ``DEVICE_KEY``.

The parts, one concept each: ``_async/base.py`` (stores, configuration),
``_async/login.py`` (registration, login, failed-login limits), ``_async/sessions.py``
(authenticate, refresh, logout, devices), ``_async/revocation.py`` (what logout and
``websession revoke-user`` share), ``_async/service.py`` (password change, the class),
``credentials.py`` (tokens and the request's session), ``ratelimit.py`` (limit rules).

Revocation keeps the record: ``logout`` patches it with ``REVOKED_KEY`` (the time of
revocation) and leaves its deadline alone, so until then a replay of its cookie is
told ``session_revoked`` rather than ``invalid_session``. The engine never serves a
revoked record. On stores that drop records at their deadline by themselves (Redis),
a session past its deadline is gone, and is reported as ``invalid_session``.
"""

from __future__ import annotations

from websession.auth._async.service import AsyncAuth
from websession.auth._sync.service import Auth
from websession.auth.credentials import IssuedSession

__all__ = ["AsyncAuth", "Auth", "IssuedSession"]
