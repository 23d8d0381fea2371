"""Backend-neutral helpers for the queue contract: record deliveries, wait for them."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from shared.ports import TaskQueue


@dataclass
class Deliveries:
    """What the worker side saw, in order; `fail_first` makes chosen kinds fail once."""

    seen: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    fail_first: set[str] = field(default_factory=set)

    async def handle(self, kind: str, payload: dict[str, Any]) -> None:
        self.seen.append((kind, payload))
        if kind in self.fail_first:
            self.fail_first.discard(kind)
            raise RuntimeError("first attempt fails on purpose")

    async def wait_for(self, count: int, timeout: float = 20.0) -> None:
        async def reached() -> None:
            while len(self.seen) < count:
                await asyncio.sleep(0.02)

        await asyncio.wait_for(reached(), timeout)


@dataclass
class QueueHarness:
    queue: TaskQueue
    deliveries: Deliveries
    settle: Callable[[], Awaitable[None]]
