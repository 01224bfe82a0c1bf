"""The names of the subjects, as the report and the targets spell them."""

from __future__ import annotations

WS_MEMORY, WS_SQLITE, WS_REDIS = "websession memory", "websession SQLite", "websession Redis"
WS_POSTGRES, WS_COOKIE = "websession PostgreSQL", "websession cookie"
WS_MYSQL = "websession MariaDB"
WS_MEMORY_SEALED = "websession memory, encrypt_at_rest"
WS_SQLITE_SEALED = "websession SQLite, encrypt_at_rest"
STARLETTE = "Starlette SessionMiddleware"
SS_MEMORY, SS_REDIS = "starsessions memory", "starsessions Redis"

WS_FLASK_SQLITE = "websession/Flask SQLite"
WS_FLASK_REDIS = "websession/Flask Redis, refresh off"
"""websession's default: a read extends the deadline only past the refresh threshold."""
WS_FLASK_REDIS_REFRESH = "websession/Flask Redis, refresh on"
"""``refresh_each_request=True`` (Flask's ``SESSION_REFRESH_EACH_REQUEST``)."""
FLASK_DEFAULT = "Flask default session"
FLASK_SESSION = "Flask-Session Redis, refresh on"
"""Flask-Session's default (``SESSION_REFRESH_EACH_REQUEST`` on): GET and SET."""
FLASK_SESSION_NO_REFRESH = "Flask-Session Redis, refresh off"
"""Flask-Session with ``SESSION_REFRESH_EACH_REQUEST`` off: a read is one GET."""

WS_DJANGO_SQLITE, WS_DJANGO_REDIS = "websession/Django SQLite", "websession/Django Redis"
DJANGO_DB, DJANGO_CACHE = "Django db (SQLite)", "Django cache (Redis)"

ASGI_PEERS = (STARLETTE, SS_MEMORY, SS_REDIS)
WSGI_PEERS = (FLASK_DEFAULT, FLASK_SESSION, FLASK_SESSION_NO_REFRESH)
DJANGO_PEERS = (DJANGO_DB, DJANGO_CACHE)

E2E_BARE = "bare"
E2E_MEMORY, E2E_SQLITE, E2E_REDIS = "websession-memory", "websession-sqlite", "websession-redis"
