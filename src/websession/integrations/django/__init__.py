"""websession as a Django session engine: ``SESSION_ENGINE = "websession.integrations.django"``.

Django's ``SessionMiddleware``, ``django.contrib.auth`` (``login``/``logout``, which call
``cycle_key``/``flush``), messages and the test ``Client`` work unchanged, over any
websession store: ``WEBSESSION_STORE`` (a store URL; default the embedded SQLite store)
and ``WEBSESSION_SECRET`` (at least 32 bytes; else ``SECRET_KEY`` if long enough). The
session key is websession's signed token, the store keeps only its hash, and sessions
are shared with ``websession.SessionMiddleware`` and the Flask integration on the same
store, secret and cookie name. Django's database is never queried for sessions.

======================  ===============================================================
module                  holds
======================  ===============================================================
``store``               ``SessionStore`` (Django's ``SessionBase``), its state
``_async/flows``        what each method does to the store (``_sync`` generated)
``policy``              keys, deadlines (``set_expiry``), patches: no I/O
``settings``            Django settings to a ``SessionConfig``; one store per URL
``users``               auth signals, ``logout_everywhere``, ``devices``
======================  ===============================================================

Supported: Django 5.2 LTS and newer (``pip install 'websession[django]'``).
"""

from __future__ import annotations

from websession.extras import missing_extra

try:
    import django  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on the installed extras
    raise missing_extra("websession.integrations.django", "django") from exc

from websession.integrations.django.settings import close_stores
from websession.integrations.django.store import SessionStore
from websession.integrations.django.users import (
    adevices,
    alogout_everywhere,
    devices,
    logout_everywhere,
    user_key,
)

__all__ = [
    "SessionStore",
    "adevices",
    "alogout_everywhere",
    "close_stores",
    "devices",
    "logout_everywhere",
    "user_key",
]
