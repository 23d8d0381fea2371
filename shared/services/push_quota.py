"""Exact daily and monthly push quotas without a hot document, taken in the push's own transaction.

Each limit is a sharded counter: SHARDS small documents per leaderboard and period kind
(day, month), each owning a fixed share (allotment) of the limit and counting what it
granted in the current UTC day or month. A push reads shards in a random order until they
can grant its rows (usually one of each kind), and writes what it took in the same
transaction that stores its batch: the quota counts exactly the rows stored, so no crash
can leave quota taken without its rows (nor rows without their quota).

Why this is exact: every granted row is counted in exactly one shard of each kind inside
the transaction and no shard grants past its allotment, so the totals can never pass the
limits; and a push is refused a row only after every shard of a kind said no, so racing
pushers together take exactly the limit. The day and month are taken independently (a
push takes from as many day shards as it needs, then as many month shards), so a full day
shard never hides room in another. Why it scales: concurrent pushes land on different
shards, so each document sees a fraction of the write rate (Firestore sustains about one
write per second per document).

The monthly shards also count every row ever accepted, so pending rows = accepted -
consolidated needs no counter that every push writes.
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
    return {DAY: now.strftime("%Y-%m-%d"), MONTH: now.strftime("%Y-%m")}


@dataclass
class _Shard:
    id: str
    data: Data
    used: int  # in the current period
    take: int = 0


async def take(tx: Transaction, workspace_id: str, leaderboard_id: str, wanted: int, limits: Limits,
               now: dict[str, str]) -> int:
    """Grant up to `wanted` rows against today's and this month's limits, within `tx`; returns how many.

    Reads the shards it needs and writes their new counts into `tx`; nothing is written if
    nothing is granted. `now` is `periods(deps)`.
    """
    if wanted <= 0:
        return 0
    day = await _claim(tx, leaderboard_id, DAY, now[DAY], wanted, limits.daily)
    month = await _claim(tx, leaderboard_id, MONTH, now[MONTH], sum(s.take for s in day), limits.monthly)
    granted = sum(s.take for s in month)
    _trim(day, granted)
    for kind, shards in ((DAY, day), (MONTH, month)):
        for shard in shards:
            if shard.take:
                tx.set(PUSH_QUOTA, shard.id, {
                    "workspace_id": workspace_id, "leaderboard_id": leaderboard_id, "kind": kind,
                    "shard": int(shard.id.rsplit(".", 1)[1]), "period": now[kind], "used": shard.used + shard.take,
                    "accepted_total": shard.data.get("accepted_total", 0) + shard.take})
    return granted


async def _claim(tx: Transaction, leaderboard_id: str, kind: str, period: str, need: int, limit: int) -> list[_Shard]:
    """Shards read in a random order, each taking what its share allows, until `need` is met or all said no."""
    claimed: list[_Shard] = []
    for index in random.sample(range(SHARDS), SHARDS):
        if need <= 0:
            break
        doc_id = f"{leaderboard_id}.{kind}.{index}"
        doc = await tx.get(PUSH_QUOTA, doc_id)
        data = doc.data if doc else {}
        used = data["used"] if data.get("period") == period else 0
        shard = _Shard(doc_id, data, used, max(0, min(allotment(limit, index) - used, need)))
        need -= shard.take
        claimed.append(shard)
    return claimed


def _trim(shards: list[_Shard], granted: int) -> None:
    """Keep only `granted` rows of what the shards took (the month granted fewer than the day)."""
    for shard in shards:
        shard.take = min(shard.take, granted)
        granted -= shard.take


@dataclass(frozen=True)
class Usage:
    today: int
    this_month: int
    accepted_total: int


async def usage(deps: Deps, leaderboard_id: str) -> Usage:
    """Rows granted today, this month and ever, summed over the shards."""
    now = periods(deps)
    totals = {DAY: 0, MONTH: 0}
    accepted = 0
    for doc in await deps.documents.query(Query(PUSH_QUOTA, where={"leaderboard_id": leaderboard_id})):
        kind = doc.data["kind"]
        if doc.data["period"] == now[kind]:
            totals[kind] += doc.data["used"]
        if kind == MONTH:
            accepted += doc.data["accepted_total"]
    return Usage(totals[DAY], totals[MONTH], accepted)
