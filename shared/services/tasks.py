"""Queued work: the registry from task kind to handler, run by either queue adapter."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from shared.bootstrap import Deps
from shared.ports import Data, PermanentTaskError

TaskFn = Callable[[Deps, Data], Awaitable[None]]
HANDLERS: dict[str, TaskFn] = {}


def task(kind: str) -> Callable[[TaskFn], TaskFn]:
    """Register a handler for a task kind (handlers must be idempotent: delivery is at-least-once)."""

    def register(fn: TaskFn) -> TaskFn:
        HANDLERS[kind] = fn
        return fn

    return register


def runner(deps: Deps) -> Callable[[str, Data], Awaitable[None]]:
    """The TaskHandler both queues call: looks the kind up and runs it with these deps."""

    async def run(kind: str, payload: Data) -> None:
        handler = HANDLERS.get(kind)
        if handler is None:
            raise PermanentTaskError(f"no handler for task kind {kind!r}")
        await handler(deps, payload)

    return run
