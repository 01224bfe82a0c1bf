# Generated from ../_async/store.py by scripts/generate_sync.py: do not edit.
"""The Redis store: its operations, run on the driver (one source, sync generated).

Each operation runs its plan (``websession.stores.redis.plans``) on the driver, one
batch per round trip. Abilities: ``UserIndex`` and ``Iterating``; not ``Purging``:
Redis expires records itself (TTLs) and user indexes prune themselves on write.
"""

from __future__ import annotations

from typing import Any, TypeVar

from websession.stores.redis.driver import RedisDriver
from websession.stores.redis.plans import Plan, scan_cursor, scan_position, scan_reply
from websession.types import Changes, Record, SessionKey

__all__ = ["RedisStore"]

T = TypeVar("T")


class RedisStore(RedisDriver):
    """Sessions in Redis / Valkey or a Redis Cluster (see ``websession.stores.redis``)."""

    def _run(self, plan: Plan[T]) -> T:
        results: Any = None
        while True:
            try:
                batch = plan.send(results)
            except StopIteration as done:
                value: T = done.value
                return value
            results = self._execute(batch)

    def load(self, key: SessionKey) -> Record | None:
        """See ``Store.load``: one HGETALL."""
        return self._run(self._plans.load(key))

    def create(self, key: SessionKey, record: Record) -> bool:
        """See ``Store.create``: one script that never overwrites."""
        return self._run(self._plans.create(key, record))

    def update(self, key: SessionKey, changes: Changes) -> bool:
        """See ``Store.update``: one script patching only the named keys."""
        return self._run(self._plans.update(key, changes))

    def touch(self, key: SessionKey, last_seen: float, expires_at: float) -> bool:
        """See ``Store.touch``: one script moving the deadline and the TTL."""
        return self._run(self._plans.touch(key, last_seen, expires_at))

    def replace(self, old_key: SessionKey, key: SessionKey, record: Record) -> bool:
        """See ``Store.replace``: one script; two round trips on a cluster (see
        ``websession.stores.redis.plans``)."""
        return self._run(self._plans.replace(old_key, key, record))

    def delete(self, key: SessionKey) -> None:
        """See ``Store.delete``: one script (a DEL on a cluster)."""
        self._run(self._plans.delete(key))

    def list_user(self, user_id: str, now: float) -> list[tuple[SessionKey, Record]]:
        """See ``UserIndex.list_user``: the index, then the sessions in one pipeline."""
        return self._run(self._plans.list_user(user_id, now))

    def delete_user(self, user_id: str, *, keep: SessionKey | None = None) -> int:
        """See ``UserIndex.delete_user``: the index, then one pipeline of deletions."""
        return self._run(self._plans.delete_user(user_id, keep))

    def scan(
        self, cursor: str | None, limit: int
    ) -> tuple[list[tuple[SessionKey, Record]], str | None]:
        """See ``Iterating.scan``: one SCAN step (server by server on a cluster, the
        primaries in address order), then the records found in one pipeline. Cursors are
        ``<server>:<SCAN cursor>``, valid while the cluster keeps its primaries."""
        server, position = scan_position(cursor)
        reply, servers = self._on_server(server, self._plans.scan_command(position, limit))
        if reply is None:  # no such server (the cluster shrank): nothing left
            return [], None
        position, names = scan_reply(reply)
        records = self._run(self._plans.load_many(names))
        return records, scan_cursor(server, position, servers)
