# Generated from ../_async/client.py by scripts/generate_sync.py: do not edit.
"""Batches of commands through a redis-py client: the sync clients, and the async
cluster client (the async store talks to a standalone server on its own connections).

A batch of several commands is one pipeline (on a cluster, one request to each server
concerned, routed by the client's slot table, which must be loaded first). A script
the server does not know (NOSCRIPT: a restart or SCRIPT FLUSH) is sent once more as
EVAL. A read of a key of another type answers the error as its reply (see
``scripts.wrong_type``).
"""

from __future__ import annotations

from typing import Any

from redis.exceptions import NoScriptError, ResponseError

from websession.stores.redis.scripts import Command, as_eval, first_key, noscript, wrong_type

__all__ = ["call", "on_server", "send"]


def send(client: Any, batch: list[Command], *, cluster: bool) -> list[Any]:
    """Send ``batch`` (pipelined when longer than one); return every reply."""
    if len(batch) == 1:
        return [call(client, batch[0])]
    pipe = client.pipeline(transaction=False)
    for command in batch:
        if cluster:
            # Route by the slot table: left to itself, the sync cluster pipeline asks
            # the server (COMMAND GETKEYS) where each script's keys are.
            node = client.get_node_from_key(first_key(command))
            pipe.execute_command(*command, target_nodes=node)
        else:
            pipe.execute_command(*command)
    results: list[Any] = pipe.execute(raise_on_error=False)
    for i in noscript(batch, results):
        results[i] = call(client, batch[i])
    return results


def call(client: Any, command: Command) -> Any:
    """Run one command; a script unknown to the server runs again as EVAL."""
    try:
        return client.execute_command(*command)
    except NoScriptError:
        return client.execute_command(*as_eval(command))
    except ResponseError as exc:
        if wrong_type(command, exc):
            return exc
        raise


def on_server(client: Any, server: int, command: Command, *, cluster: bool) -> tuple[Any, int]:
    """Run ``command`` on the ``server``-th server (the primaries in address order on a
    cluster); return its reply and how many servers there are (the reply is None when
    there is no such server)."""
    if not cluster:
        return (call(client, command) if server == 0 else None), 1
    primaries = sorted(client.get_primaries(), key=lambda node: node.name)
    if server >= len(primaries):
        return None, len(primaries)
    reply = client.execute_command(*command, target_nodes=primaries[server])
    return reply, len(primaries)
