"""Leaderboards (live ones, and deleted ones waiting for their purge) and their candidate models."""

from __future__ import annotations

from typing import Any

from shared.domain.leaderboard import Candidate, Leaderboard
from shared.ports import Order, Range
from shared.stores.base import NEWEST_FIRST, OLDEST_FIRST, Store


class Leaderboards(Store[Leaderboard]):
    """Live leaderboards: one marked deleted is missing here, for reads, changes, lists and scans alike.

    So from the moment DELETE marks it, every route answers 404 and every periodic job
    passes it by, without each caller having to remember to check.
    """

    collection, aggregate, label = "leaderboards", Leaderboard, "Leaderboard"

    async def get(self, doc_id: str) -> Leaderboard | None:
        found = await super().get(doc_id)
        return None if found is None or found.deleted else found

    async def find(self, where: dict[str, Any], order: tuple[Order, ...] = OLDEST_FIRST,
                   **window: Any) -> list[Leaderboard]:
        return [board for board in await super().find(where, order, **window) if not board.deleted]

    async def page(self, where: dict[str, Any], limit: int, offset: int,
                   order: tuple[Order, ...] = NEWEST_FIRST) -> tuple[list[Leaderboard], int]:
        # In the query itself, so the page and the count agree.
        return await super().page({**where, "deleted_at": None}, limit, offset, order)

    async def get_push(self, leaderboard_id: str, workspace_id: str) -> Leaderboard:
        """The workspace's leaderboard if it takes pushed rows (404, or 409 `not_a_push_dataset`)."""
        return (await self.get_owned(leaderboard_id, workspace_id)).require_push()


class DeletedLeaderboards(Store[Leaderboard]):
    """Leaderboards marked deleted and not purged yet: the purge's view, where live ones are missing.

    A purge task can therefore never touch a live leaderboard, whatever payload it is given.
    """

    collection, aggregate, label = "leaderboards", Leaderboard, "Deleted leaderboard"

    async def get(self, doc_id: str) -> Leaderboard | None:
        found = await super().get(doc_id)
        return found if found is not None and found.deleted else None

    async def oldest(self, limit: int) -> list[Leaderboard]:
        """The marked leaderboards, longest deleted first (a range on one field: no composite index)."""
        return await self.find({}, order=(Order("deleted_at"),), limit=limit, range=Range("deleted_at", low=""))


class Candidates(Store[Candidate]):
    collection, aggregate, label = "leaderboard_models", Candidate, "Candidate model"

    async def of(self, leaderboard: Leaderboard) -> list[Candidate]:
        """The leaderboard's candidates, oldest first."""
        return await self.find({"workspace_id": leaderboard.workspace_id, "leaderboard_id": leaderboard.id})

    async def get_on(self, candidate_id: str, leaderboard: Leaderboard) -> Candidate:
        """One candidate of this leaderboard (404 for any other)."""
        found = await self.get_owned(candidate_id, leaderboard.workspace_id)
        if found.leaderboard_id != leaderboard.id:
            raise self.not_found(candidate_id)
        return found
