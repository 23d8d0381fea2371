"""Traces of production calls, newest first, filtered by time window, status and candidate."""

from __future__ import annotations

from typing import Any

from shared.domain.trace import Trace
from shared.ports import Order, Query, Range
from shared.stores.base import Store


class Traces(Store[Trace]):
    collection, aggregate, label = "traces", Trace, "Trace"

    async def listed(self, workspace_id: str, leaderboard_id: str, filters: dict[str, Any], limit: int | None,
                     offset: int) -> tuple[list[Trace], int]:
        """since <= created_at < until, and `status` / `candidate_id` when given."""
        where = {"workspace_id": workspace_id, "leaderboard_id": leaderboard_id,
                 **{name: filters[name] for name in ("status", "candidate_id") if filters.get(name)}}
        window = Range("created_at", filters.get("since"), filters.get("until")) \
            if filters.get("since") or filters.get("until") else None
        query = Query(self.collection, where=where, order_by=(Order("created_at", descending=True),), limit=limit,
                      offset=offset, range=window)
        return [self.load(doc) for doc in await self.documents.query(query)], await self.documents.count(query)
