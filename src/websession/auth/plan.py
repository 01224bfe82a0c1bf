"""Auth operations written once, as sans-IO plans, and run by a sync or async driver.

A plan is a generator that yields the I/O it needs, a ``Call`` or a list of them, and
receives the result (a list of results for a list). ``run_sync`` performs each call
directly; ``run_async`` awaits store calls on the event loop, runs password hashing
in a worker pool, and runs the calls of a list concurrently. So ``Auth`` and
``AsyncAuth`` share every rule, as the sync and async Redis stores share theirs.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Generator, Mapping
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

__all__ = ["Call", "Plan", "Target", "run_async", "run_sync"]

T = TypeVar("T")

Target = Literal["sessions", "users", "hasher"]
"""What a call goes to: the session store, the user store, or the password hasher."""


@dataclass(frozen=True, slots=True)
class Call:
    """One method call on a target."""

    target: Target
    method: str
    args: tuple[Any, ...] = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)


Plan = Generator[Call | list[Call], Any, T]
"""An operation: yields calls, receives their results, returns its value."""


def run_sync(plan: Plan[T], targets: Mapping[Target, Any]) -> T:
    """Run ``plan``, calling each target method directly (lists in order)."""
    result: Any = None
    try:
        while True:
            try:
                step = plan.send(result)
            except StopIteration as done:
                value: T = done.value
                return value
            if isinstance(step, list):
                result = [_sync_call(targets, call) for call in step]
            else:
                result = _sync_call(targets, step)
    finally:
        plan.close()


def _sync_call(targets: Mapping[Target, Any], call: Call) -> Any:
    return getattr(targets[call.target], call.method)(*call.args, **call.kwargs)


async def run_async(plan: Plan[T], targets: Mapping[Target, Any], executor: Executor) -> T:
    """Run ``plan``: await store calls, hash in ``executor``, gather the calls of a list.

    When a call of a list fails, the others still finish before the first error is
    raised, so no write is left running unobserved.
    """
    result: Any = None
    try:
        while True:
            try:
                step = plan.send(result)
            except StopIteration as done:
                value: T = done.value
                return value
            if isinstance(step, list):
                results = await asyncio.gather(
                    *(_async_call(targets, call, executor) for call in step),
                    return_exceptions=True,
                )
                for item in results:
                    if isinstance(item, BaseException):
                        raise item
                result = results
            else:
                result = await _async_call(targets, step, executor)
    finally:
        plan.close()


async def _async_call(targets: Mapping[Target, Any], call: Call, executor: Executor) -> Any:
    method = getattr(targets[call.target], call.method)
    if call.target == "hasher":
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            executor, functools.partial(method, *call.args, **call.kwargs)
        )
    return await method(*call.args, **call.kwargs)
