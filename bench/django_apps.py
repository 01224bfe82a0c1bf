"""Django subjects: one Django project, its session engines side by side.

websession's engine (on SQLite and on Redis) beside Django's built-in ``db`` engine (on
Django's SQLite database) and ``cache`` engine (on Django's Redis cache), and a bare
Django app without sessions, all answering the same paths as the other apps (see
``bench.apps``). Django is configured once per process, so each subject's
``SessionMiddleware`` is built while ``SESSION_ENGINE`` names a module of its own (for
websession: a ``SessionStore`` pinned to its store URL).
"""

from __future__ import annotations

import collections
import itertools
import os
import sys
import types
from pathlib import Path
from typing import Any

from bench.apps import SECRET, USER, Subject
from bench.count import OpCount, Run

_COUNTER = itertools.count(1)


def configure(tmp: Path, redis_url: str | None) -> None:
    """Configure Django once: an SQLite database (for the ``db`` engine) and, with
    ``redis_url``, a Redis cache (for the ``cache`` engine)."""
    from django.conf import settings

    import django

    if settings.configured:
        return
    # The harness calls WSGI apps one at a time from its event loop's thread; Django's
    # guard against database calls from async code would refuse the db engine's queries.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    caches: dict[str, Any] = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    }
    if redis_url is not None:
        caches["default"] = {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis_url.split("?", 1)[0],
            "KEY_PREFIX": "bench-django",
        }
    settings.configure(
        SECRET_KEY=SECRET,
        WEBSESSION_SECRET=SECRET,
        INSTALLED_APPS=["django.contrib.sessions"],
        MIDDLEWARE=["django.contrib.sessions.middleware.SessionMiddleware"],
        ROOT_URLCONF=__name__,
        DATABASES={  # persistent connection: the engine is measured, not connecting
            "default": {
                "ENGINE": "django.db.backends.sqlite3",
                "NAME": str(tmp / "dj.db"),
                "CONN_MAX_AGE": None,
            }
        },
        CACHES=caches,
        ALLOWED_HOSTS=["*"],
        USE_TZ=True,
        SESSION_COOKIE_NAME="session",
    )
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _untouched(request: Any) -> Any:
    from django.http import HttpResponse

    return HttpResponse("ok", content_type="text/plain")


def _read(request: Any) -> Any:
    from django.http import HttpResponse

    value = USER if not hasattr(request, "session") else str(request.session["user"])
    return HttpResponse(value, content_type="text/plain")


def _write(request: Any) -> Any:
    from django.http import HttpResponse

    value = next(_COUNTER)
    if hasattr(request, "session"):
        request.session["n"] = value
    return HttpResponse(str(value), content_type="text/plain")


def _seed(request: Any) -> Any:
    from django.http import HttpResponse

    request.session["user"] = USER
    request.session["n"] = 0
    return HttpResponse("seeded", content_type="text/plain")


def _check(request: Any) -> Any:
    from django.http import HttpResponse

    return HttpResponse(str(request.session.get("n")), content_type="text/plain")


def _urls() -> list[Any]:
    from django.urls import path

    return [
        path("", _untouched),
        path("read", _read),
        path("write", _write),
        path("seed", _seed),
        path("check", _check),
    ]


urlpatterns: list[Any] = []


def _handler(engine: str | None) -> Any:
    from django.core.handlers.wsgi import WSGIHandler
    from django.test import override_settings

    if not urlpatterns:
        urlpatterns.extend(_urls())
    middleware = [] if engine is None else ["django.contrib.sessions.middleware.SessionMiddleware"]
    with override_settings(MIDDLEWARE=middleware, SESSION_ENGINE=engine or "unused"):
        return WSGIHandler()


def websession(name: str, url: str, store_kind: str) -> Subject:
    """websession's Django engine on the store at ``url``."""
    from websession.integrations.django import SessionStore
    from websession.integrations.django.settings import shared_store

    class Pinned(SessionStore):
        def __init__(self, session_key: str | None = None) -> None:
            super().__init__(session_key)
            self._url = url

    module = types.ModuleType(f"bench_django_{store_kind}")
    module.SessionStore = Pinned  # type: ignore[attr-defined]  # a module built here
    sys.modules[module.__name__] = module
    shared = shared_store(url)
    return Subject(
        name,
        "django",
        _handler(module.__name__),
        store_kind,
        handle=shared.sync(),
        closers=[shared.close],
    )


def django_db() -> Subject:
    """Django's ``db`` session engine on Django's SQLite database."""
    app = _handler("django.contrib.sessions.backends.db")
    return Subject("Django db (SQLite)", "django", app, "django-db", peer=True)


def django_cache() -> Subject:
    """Django's ``cache`` session engine on Django's Redis cache."""
    app = _handler("django.contrib.sessions.backends.cache")
    return Subject("Django cache (Redis)", "django", app, "redis", peer=True)


def bare() -> Subject:
    """The Django app without sessions."""
    return Subject("bare Django app", "django", _handler(None), "none")


class QueryCounter:
    """Counts the queries Django sends to its database."""

    async def count(self, run: Run, n: int) -> OpCount:
        """Run ``run`` (``n`` requests) with an execute wrapper; queries per request."""
        from django.db import connection

        seen: collections.Counter[str] = collections.Counter()

        def wrapper(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
            seen[(sql.split(None, 1) or ["?"])[0].upper()] += 1
            return execute(sql, params, many, context)

        with connection.execute_wrapper(wrapper):
            await run()
        per = ", ".join(f"{k} {v / n:g}" for k, v in sorted(seen.items())) or "none"
        return OpCount(sum(seen.values()) / n, "statements", per)
