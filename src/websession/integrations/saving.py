"""Carry out an engine ``Outcome`` on a store: the one write of a request.

Shared by every integration: the ASGI middleware awaits ``save_async``; WSGI
integrations call ``save`` directly, with no event loop.
"""

from __future__ import annotations

from websession.core.cookies import SetCookie
from websession.core.engine import Op, Outcome
from websession.stores.base import AsyncStore, Store

__all__ = ["save", "save_async"]


def save(store: Store, outcome: Outcome) -> SetCookie | None:
    """Run the outcome's store operation; return the cookie to send, if any."""
    op = outcome.op
    if op is Op.NOTHING:
        return outcome.cookie
    key = outcome.key
    assert key is not None  # noqa: S101 - every operation but NOTHING names a key
    if op is Op.CREATE:
        store.create(key, outcome.record)  # type: ignore[arg-type]
    elif op is Op.UPDATE:
        if not store.update(key, outcome.changes):  # type: ignore[arg-type]
            return outcome.gone_cookie
    elif op is Op.TOUCH:
        changes = outcome.changes
        if not store.touch(key, changes.last_seen, changes.expires_at):  # type: ignore[union-attr]
            return outcome.gone_cookie
    elif op is Op.REPLACE:
        store.replace(outcome.old_key, key, outcome.record)  # type: ignore[arg-type]
    else:
        store.delete(key)
    return outcome.cookie


async def save_async(store: AsyncStore, outcome: Outcome) -> SetCookie | None:
    """Await the outcome's store operation; return the cookie to send, if any."""
    op = outcome.op
    if op is Op.NOTHING:
        return outcome.cookie
    key = outcome.key
    assert key is not None  # noqa: S101 - every operation but NOTHING names a key
    if op is Op.CREATE:
        await store.create(key, outcome.record)  # type: ignore[arg-type]
    elif op is Op.UPDATE:
        if not await store.update(key, outcome.changes):  # type: ignore[arg-type]
            return outcome.gone_cookie
    elif op is Op.TOUCH:
        changes = outcome.changes
        if not await store.touch(key, changes.last_seen, changes.expires_at):  # type: ignore[union-attr]
            return outcome.gone_cookie
    elif op is Op.REPLACE:
        await store.replace(outcome.old_key, key, outcome.record)  # type: ignore[arg-type]
    else:
        await store.delete(key)
    return outcome.cookie
