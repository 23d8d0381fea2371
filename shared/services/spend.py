"""Monthly spend per leaderboard and its budget state, without a hot document.

Spend is added to one of SHARDS documents chosen at random (in micro-dollars, so sums
are exact) and read as the sum of the shards: concurrent inferences rarely touch the
same document. The budget is `constraints.monthly_budget_usd` on the leaderboard:
`ok` below 80% of it, `warning` from 80%, `exceeded` from 100%, when inference answers
402 `budget_exceeded`. Spend is recorded before each answer is sent, but a call's cost is
known only once it answered, so a burst of concurrent calls can overshoot the budget by
what those calls cost.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from shared.domain.leaderboard import Leaderboard
from shared.ports import Deps, Query, Transaction

SPEND = "spend_shards"
SHARDS = 8
WARNING_AT = 0.8
MICRO = 1_000_000


def _month(deps: Deps) -> str:
    return deps.clock.now().strftime("%Y-%m")


async def add(deps: Deps, workspace_id: str, leaderboard_id: str, usd: float) -> None:
    if usd <= 0:
        return
    month, shard = _month(deps), random.randrange(SHARDS)
    doc_id = f"{leaderboard_id}.{month}.{shard}"

    async def increment(tx: Transaction) -> None:
        doc = await tx.get(SPEND, doc_id)
        micro = (doc.data["micro_usd"] if doc else 0) + round(usd * MICRO)
        tx.set(SPEND, doc_id, {"workspace_id": workspace_id, "leaderboard_id": leaderboard_id, "month": month,
                               "micro_usd": micro})

    await deps.documents.run_transaction(increment)


async def month_to_date(deps: Deps, leaderboard_id: str) -> float:
    # A plain filter (no projection: the shards are tiny), so an instance answers it from its cache.
    shards = await deps.documents.query(Query(SPEND, where={"leaderboard_id": leaderboard_id, "month": _month(deps)}))
    return sum(doc.data["micro_usd"] for doc in shards) / MICRO


@dataclass(frozen=True)
class Budget:
    state: str  # none, ok, warning or exceeded
    limit_usd: float | None
    spent_usd: float

    @property
    def remaining_usd(self) -> float | None:
        return None if self.limit_usd is None else max(0.0, self.limit_usd - self.spent_usd)


def budget_limit(board: Leaderboard) -> float | None:
    value = (board.constraints or {}).get("monthly_budget_usd")
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0 else None


async def budget(deps: Deps, board: Leaderboard) -> Budget:
    limit = budget_limit(board)
    if limit is None:
        return Budget("none", None, 0.0)
    spent = await month_to_date(deps, board.id)
    state = "exceeded" if spent >= limit else "warning" if spent >= WARNING_AT * limit else "ok"
    return Budget(state, limit, spent)
