"""Fault injection for ports: a process that dies at its N-th write, a store that aborts transactions,
and a store that holds a save so a test can write in between (a lost-update race made certain)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from shared.ports import Unavailable


class Crash(Exception):
    """The simulated process death."""


class Budget:
    def __init__(self, writes_before_crash: int) -> None:
        self.left = writes_before_crash

    def spend(self) -> None:
        self.left -= 1
        if self.left < 0:
            raise Crash()


class Crashing:
    """Forwards to a port, dying on the budget's next write once it is spent.

    By default the process dies before that write; with `after_write` it dies just after the
    write is applied, before its caller learns so (the answer that never reached the client).
    """

    WRITES = {"create", "set", "update", "delete", "run_transaction", "put", "write_stream", "enqueue"}

    def __init__(self, inner: Any, budget: Budget, after_write: bool = False) -> None:
        self._inner, self._budget, self._after_write = inner, budget, after_write

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if name not in self.WRITES:
            return attr

        async def write(*args: Any, **kwargs: Any) -> Any:
            if not self._after_write:
                self._budget.spend()
            result = await attr(*args, **kwargs)
            if self._after_write:
                self._budget.spend()
            return result

        return write


class Aborting:
    """Forwards to a document store whose transactions fail (as Firestore aborts them) while `aborts` last."""

    def __init__(self, inner: Any, aborts: int) -> None:
        self._inner, self.aborts = inner, aborts

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def run_transaction(self, fn: Any) -> Any:
        if self.aborts > 0:
            self.aborts -= 1
            raise Unavailable("transaction aborted: too much contention")
        return await self._inner.run_transaction(fn)


class HoldingFirstSave:
    """Forwards to a document store, holding the first version-checked save `holds` picks until `release` is set.

    `held` is set once that save waits: it read its document and is about to write, so a
    test can change the document in between and see whether either change is lost.
    """

    def __init__(self, inner: Any, holds: Callable[[str], bool]) -> None:
        self.inner, self.holds, self.holding = inner, holds, True
        self.held, self.release = asyncio.Event(), asyncio.Event()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def update(self, collection: str, doc_id: str, changes: Any, *, if_version: str | None = None) -> Any:
        if if_version is not None and self.holding and self.holds(collection):
            self.holding = False
            self.held.set()
            await self.release.wait()
        return await self.inner.update(collection, doc_id, changes, if_version=if_version)
