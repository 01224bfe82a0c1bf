"""Django configured once for the Django tests: the websession engine on ``memory://``
(test classes switch the store with ``override_settings``), auth on an SQLite file, and
no ``django.contrib.sessions`` app (the engine needs none)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from django.conf import settings

import django

SECRET = "websession-django-test-secret-" + "x" * 20

_DB_DIR = tempfile.mkdtemp(prefix="websession-django-")

if not settings.configured:
    settings.configure(
        SECRET_KEY="short",  # WEBSESSION_SECRET signs: a short SECRET_KEY is never used
        WEBSESSION_SECRET=SECRET,
        WEBSESSION_STORE="memory://",
        SESSION_ENGINE="websession.integrations.django",
        INSTALLED_APPS=[
            "django.contrib.auth",
            "django.contrib.contenttypes",
            "django.contrib.messages",
        ],
        MIDDLEWARE=[
            "django.contrib.sessions.middleware.SessionMiddleware",
            "django.contrib.auth.middleware.AuthenticationMiddleware",
            "django.contrib.messages.middleware.MessageMiddleware",
        ],
        MESSAGE_STORAGE="django.contrib.messages.storage.session.SessionStorage",
        DATABASES={
            "default": {
                "ENGINE": "django.db.backends.sqlite3",
                "NAME": str(Path(_DB_DIR) / "auth.db"),
            }
        },
        ROOT_URLCONF="tests.django.views",
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        USE_TZ=True,
        ALLOWED_HOSTS=["testserver"],
        DEFAULT_AUTO_FIELD="django.db.models.AutoField",
    )
    django.setup()


@pytest.fixture(scope="session")
def auth_db() -> None:
    """The auth tables (users) on the test database file."""
    from django.core.management import call_command

    call_command("migrate", run_syncdb=True, verbosity=0)
