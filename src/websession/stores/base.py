"""The store contract, sync and async: enough to write a third-party store.

A store persists ``Record``s by ``SessionKey`` (the hex SHA-256 of a token, never the
token). The **core** (``Store`` / ``AsyncStore``) is seven operations; everything else
is an optional **ability**, a separate runtime-checkable protocol that callers detect
with ``isinstance`` and a store claims by having the methods:

=================  ===============================  =====================================
ability            methods                          used by
=================  ===============================  =====================================
``UserIndex``      ``list_user``, ``delete_user``   auth (devices, logout everywhere), CLI
``Purging``        ``purge_expired``                ``websession purge`` (stores that do
                                                    not expire records by themselves)
``Iterating``      ``scan`` (pages, opaque cursor)  migration, operator tools
``Schema``         ``setup``                        ``websession setup``
=================  ===============================  =====================================

(each with an ``Async`` twin: ``AsyncUserIndex`` …). ``websession.testing`` holds the
conformance suite: it runs the core rules and every ability a store claims.

Rules for every method:

* Not found is not an error: ``load`` returns None, ``update``/``touch``/``replace``
  return False, ``delete`` does nothing. Errors are for system failures only, always
  ``StoreError`` subclasses chained from the driver's own exception.
* Every method is one atomic step (one round trip on network stores).
* ``create`` never overwrites; ``update`` and ``touch`` never resurrect a deleted
  record; ``update`` is a patch, so concurrent patches of different keys both survive.
* ``replace`` is conditional: it happens only while the old record is live and not
  revoked, so nothing a logout, revoke or concurrent regenerate ended comes back.
* A store may return a record past its deadline; the engine never serves it.
* Data is a JSON object; a store must return exactly the values it was given (after a
  JSON round trip). No pickle.

**Non-session records.** Other parts of websession keep small records in the session
store through the same operations (failed-login counters, encrypted-cookie
revocations). Their keys come from ``record_key(namespace, name)``: ``<namespace>.<hex>``,
which can never equal a session key (64 hex digits, no dot). A store treats them as
any other record; ``scan`` returns them too (a migration copies them).
"""

from __future__ import annotations

import hashlib
import re

from websession.stores._async.contract import (
    AsyncIterating,
    AsyncPurging,
    AsyncSchema,
    AsyncStore,
    AsyncUserIndex,
)
from websession.stores._sync.contract import Iterating, Purging, Schema, Store, UserIndex
from websession.types import SessionKey

__all__ = [
    "NAMESPACES",
    "AsyncIterating",
    "AsyncPurging",
    "AsyncSchema",
    "AsyncStore",
    "AsyncUserIndex",
    "Iterating",
    "Purging",
    "Schema",
    "Store",
    "UserIndex",
    "is_session_key",
    "record_key",
]

NAMESPACES = frozenset({"ratelimit", "revocation"})
"""The namespaces of non-session records websession itself writes."""

_SESSION_KEY = re.compile(r"[0-9a-f]{64}")


def record_key(namespace: str, name: str) -> SessionKey:
    """The store key of a non-session record: ``<namespace>.<sha256(name)>``.

    Never equal to a session key, so such records cannot collide with sessions."""
    if not namespace.isidentifier() or not namespace.islower():
        raise ValueError(f"a record namespace is a lowercase identifier, not {namespace!r}")
    digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()
    return SessionKey(f"{namespace}.{digest}")


def is_session_key(key: str) -> bool:
    """True if ``key`` is a session key (64 lowercase hex digits), not a namespaced one."""
    return _SESSION_KEY.fullmatch(key) is not None
