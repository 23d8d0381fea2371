"""Exact daily and monthly push quotas without a hot document.

Each limit is a sharded counter: SHARDS small documents per leaderboard and period kind
(day, month), each owning a fixed share (allotment) of the limit and counting what it
granted in the current UTC day or month. A push takes rows from one shard in a
transaction; if that shard's share is used up it moves on to the next, in a random
order per request, until it has its rows or every shard said no.

Why this is exact: every granted row is counted in exactly one shard inside a
transaction and no shard grants past its allotment, so the total can never pass the sum
of the allotments, which is the limit; and a request is refused only after every shard
refused, so racing pushers together take exactly the limit. Why it scales: concurrent
pushes land on different shards, so each document sees a fraction of the write rate
(Firestore sustains about one write per second per document).

A push first takes from the daily counter, then from the monthly one, and gives back
to the daily counter what the month refused. Only when both limits bind at the same
moment can a racing request be refused a row that is given back an instant later: a
push is never over-accepted.

The monthly shards also count every row ever accepted, so pending rows = accepted -
consolidated needs no counter that every push writes.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from shared.ports import Deps, Query, Transaction

PUSH_QUOTA = "push_quota_shards"
SHARDS = 8
DAY, MONTH = "day", "month"


@dataclass(frozen=True)
class Limits:
    daily: int
    monthly: int


def allotment(limit: int, shard: int) -> int:
    """Shard `shard`'s share of `limit`: an even split, the remainder to the first shards."""
    return limit // SHARDS + (1 if shard < limit % SHARDS else 0)


def _periods(deps: Deps) -> dict[str, str]:
    now = deps.clock.now()
    return {DAY: now.strftime("%Y-%m-%d"), MONTH: now.strftime("%Y-%m")}


class _Counter:
    """One sharded counter of a leaderboard for one period kind."""

    def __init__(self, deps: Deps, workspace_id: str, leaderboard_id: str, kind: str, period: str) -> None:
        self.deps, self.workspace_id, self.leaderboard_id = deps, workspace_id, leaderboard_id
        self.kind, self.period = kind, period

    def _id(self, shard: int) -> str:
        return f"{self.leaderboard_id}.{self.kind}.{shard}"

    async def _change(self, shard: int, fn) -> int:
        async def attempt(tx: Transaction) -> int:
            doc = await tx.get(PUSH_QUOTA, self._id(shard))
            data = doc.data if doc else {"accepted_total": 0}
            used = data["used"] if data.get("period") == self.period else 0
            delta = fn(shard, used)
            if delta:
                tx.set(PUSH_QUOTA, self._id(shard), {
                    "workspace_id": self.workspace_id, "leaderboard_id": self.leaderboard_id,
                    "kind": self.kind, "shard": shard, "period": self.period, "used": used + delta,
                    "accepted_total": data["accepted_total"] + delta,
                })
            return delta

        return await self.deps.documents.run_transaction(attempt)

    async def take(self, wanted: int, limit: int) -> int:
        granted = 0
        for shard in random.sample(range(SHARDS), SHARDS):
            if granted == wanted:
                break
            need = wanted - granted
            granted += await self._change(shard, lambda s, used, need=need: max(0, min(allotment(limit, s) - used, need)))
        return granted

    async def give_back(self, count: int) -> None:
        for shard in range(SHARDS):
            if count <= 0:
                return
            count -= -await self._change(shard, lambda s, used, count=count: -min(count, used))


async def reserve(deps: Deps, workspace_id: str, leaderboard_id: str, wanted: int, limits: Limits) -> int:
    """Grant up to `wanted` rows against today's and this month's limits; returns how many."""
    periods = _periods(deps)
    daily = _Counter(deps, workspace_id, leaderboard_id, DAY, periods[DAY])
    monthly = _Counter(deps, workspace_id, leaderboard_id, MONTH, periods[MONTH])
    today = await daily.take(wanted, limits.daily)
    granted = await monthly.take(today, limits.monthly) if today else 0
    if granted < today:
        await daily.give_back(today - granted)
    return granted


async def release(deps: Deps, workspace_id: str, leaderboard_id: str, count: int) -> None:
    """Give back rows granted to a request that then stored nothing (a lost idempotency race)."""
    periods = _periods(deps)
    for kind in (DAY, MONTH):
        await _Counter(deps, workspace_id, leaderboard_id, kind, periods[kind]).give_back(count)


@dataclass(frozen=True)
class Usage:
    today: int
    this_month: int
    accepted_total: int


async def usage(deps: Deps, leaderboard_id: str) -> Usage:
    """Rows granted today, this month and ever, summed over the shards."""
    periods = _periods(deps)
    totals = {DAY: 0, MONTH: 0}
    accepted = 0
    for doc in await deps.documents.query(Query(PUSH_QUOTA, where={"leaderboard_id": leaderboard_id})):
        kind = doc.data["kind"]
        if doc.data["period"] == periods[kind]:
            totals[kind] += doc.data["used"]
        if kind == MONTH:
            accepted += doc.data["accepted_total"]
    return Usage(totals[DAY], totals[MONTH], accepted)
