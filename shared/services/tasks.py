"""Queued work: the registry from task kind to handler, run by either queue adapter."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from shared.ports import Deps
from shared.ports import Data, PermanentTaskError

TaskFn = Callable[[Deps, Data], Awaitable[None]]
HANDLERS: dict[str, TaskFn] = {}
PAYLOADS: dict[str, dict[str, type]] = {}


def task(kind: str, **payload: type) -> Callable[[TaskFn], TaskFn]:
    """Register a handler for a task kind and the payload fields it reads, with their types.

    Handlers must be idempotent: delivery is at-least-once.
    """

    def register(fn: TaskFn) -> TaskFn:
        HANDLERS[kind], PAYLOADS[kind] = fn, payload
        return fn

    return register


def runner(deps: Deps) -> Callable[[str, Data], Awaitable[None]]:
    """The TaskHandler both queues call: looks the kind up and runs it with these deps."""

    async def run(kind: str, payload: Data) -> None:
        handler = HANDLERS.get(kind)
        if handler is None:
            raise PermanentTaskError(f"no handler for task kind {kind!r}")
        wrong = [name for name, expected in PAYLOADS.get(kind, {}).items()
                 if not isinstance(payload.get(name), expected) or isinstance(payload.get(name), bool)]
        if wrong:  # no retry can fix a payload this deployment never queued
            raise PermanentTaskError(f"task {kind!r} needs {', '.join(wrong)} in its payload")
        await handler(deps, payload)

    return run
