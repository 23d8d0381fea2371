"""Exact daily and monthly push quotas without a hot document, taken in the push's own transaction.

The limits are counted by sharded counters: SHARDS small documents per leaderboard, each
owning a fixed share (allotment) of the daily limit and of the monthly limit, and counting
what it granted in the current UTC day and month. A push reads shards from a random one on
until they can grant its rows (usually just the first), and writes what it took in the same
transaction that stores its batch: the quota counts exactly the rows stored, so no crash
can leave quota taken without its rows (nor rows without their quota).

Why this is exact: every granted row is counted in the transaction, against the day in one
shard and against the month in one shard, and no shard grants past its allotment of either,
so the totals never pass the limits; and a push is refused a row only after every shard
said no for the day, or for the month. The day and the month are claimed independently (a
push takes as many day shares as it needs, then as many month shares, from the same
documents in the same order), so a shard whose day share is spent never hides month room
in another. Why it scales: concurrent pushes land on different shards, so each document
sees a fraction of the write rate (Firestore sustains about one write per second per
document). A push usually costs one read and one write here.

The shards also count every row ever accepted (accepted_total), so pending rows = accepted
- consolidated needs no counter that every push writes.

A shard's fields: `period` and `used` (the month and its rows), `day` and `day_used`, and
`accepted_total`. Its id, `{leaderboard}.month.{n}`, and `kind` = "month" keep the names of
an earlier layout in which the day had shards of its own, so monthly counts carry over.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from shared.ports import Data, Deps, Query, Transaction

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


def periods(deps: Deps) -> dict[str, str]:
    now = deps.clock.now()
    month = f"{now.year:04d}-{now.month:02d}"  # (strftime costs more than the rest of a claim)
    return {DAY: f"{month}-{now.day:02d}", MONTH: month}


@dataclass
class _Shard:
    index: int
    data: Data
    day_used: int  # today
    month_used: int  # this month
    day_take: int = 0
    month_take: int = 0


def _shard_id(leaderboard_id: str, index: int) -> str:
    return f"{leaderboard_id}.month.{index}"


async def take(tx: Transaction, workspace_id: str, leaderboard_id: str, wanted: int, limits: Limits,
               now: dict[str, str]) -> int:
    """Grant up to `wanted` rows against today's and this month's limits, within `tx`; returns how many.

    Reads the shards it needs (each once) and writes their new counts into `tx`; nothing is
    written if nothing is granted. `now` is `periods(deps)`.
    """
    if wanted <= 0:
        return 0
    first = random.randrange(SHARDS)
    order = [(first + step) % SHARDS for step in range(SHARDS)]
    read: dict[int, _Shard] = {}

    async def shard(index: int) -> _Shard:
        if index not in read:
            doc = await tx.get(PUSH_QUOTA, _shard_id(leaderboard_id, index))
            data = doc.data if doc else {}
            read[index] = _Shard(index, data, data.get("day_used", 0) if data.get("day") == now[DAY] else 0,
                                 data.get("used", 0) if data.get("period") == now[MONTH] else 0)
        return read[index]

    need = wanted
    for index in order:  # today's shares first...
        if need <= 0:
            break
        found = await shard(index)
        found.day_take = max(0, min(allotment(limits.daily, index) - found.day_used, need))
        need -= found.day_take
    today = wanted - need
    need = today
    for index in order:  # ...then this month's, for as many rows as today allowed
        if need <= 0:
            break
        found = await shard(index)
        found.month_take = max(0, min(allotment(limits.monthly, index) - found.month_used, need))
        need -= found.month_take
    granted = today - need
    left = granted  # the month may have granted fewer than the day: give back the rest of the day's takes
    for index in order:
        if index in read:
            read[index].day_take = min(read[index].day_take, left)
            left -= read[index].day_take
    for found in read.values():
        if found.day_take or found.month_take:
            tx.set(PUSH_QUOTA, _shard_id(leaderboard_id, found.index), {
                "workspace_id": workspace_id, "leaderboard_id": leaderboard_id, "kind": MONTH,
                "shard": found.index, "period": now[MONTH], "used": found.month_used + found.month_take,
                "day": now[DAY], "day_used": found.day_used + found.day_take,
                "accepted_total": found.data.get("accepted_total", 0) + found.month_take})
    return granted


@dataclass(frozen=True)
class Usage:
    today: int
    this_month: int
    accepted_total: int


def _shards(leaderboard_id: str) -> Query:
    # A plain filter, the same for every caller, so an instance answers it from its read cache.
    return Query(PUSH_QUOTA, where={"leaderboard_id": leaderboard_id, "kind": MONTH})


async def accepted_total(deps: Deps, leaderboard_id: str) -> int:
    """Rows ever granted (what every push reads to report pending rows)."""
    return sum(doc.data["accepted_total"] for doc in await deps.documents.query(_shards(leaderboard_id)))


async def usage(deps: Deps, leaderboard_id: str) -> Usage:
    """Rows granted today, this month and ever, summed over the shards."""
    now = periods(deps)
    today = month = accepted = 0
    for doc in await deps.documents.query(_shards(leaderboard_id)):
        data = doc.data
        today += data.get("day_used", 0) if data.get("day") == now[DAY] else 0
        month += data["used"] if data["period"] == now[MONTH] else 0
        accepted += data["accepted_total"]
    return Usage(today, month, accepted)
