"""Fault injection for ports: a process that dies at its N-th write, a store that aborts transactions."""

from __future__ import annotations

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
    """Forwards to a port, dying on the budget's next write once it is spent."""

    WRITES = {"create", "set", "update", "delete", "run_transaction", "put", "write_stream"}

    def __init__(self, inner: Any, budget: Budget) -> None:
        self._inner, self._budget = inner, budget

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if name not in self.WRITES:
            return attr

        async def write(*args: Any, **kwargs: Any) -> Any:
            self._budget.spend()
            return await attr(*args, **kwargs)

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
