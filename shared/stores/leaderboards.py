"""Leaderboards and their candidate models."""

from __future__ import annotations

from shared.domain.leaderboard import Candidate, Leaderboard
from shared.stores.base import Store


class Leaderboards(Store[Leaderboard]):
    collection, aggregate, label = "leaderboards", Leaderboard, "Leaderboard"

    async def get_push(self, leaderboard_id: str, workspace_id: str) -> Leaderboard:
        """The workspace's leaderboard if it takes pushed rows (404, or 409 `not_a_push_dataset`)."""
        return (await self.get_owned(leaderboard_id, workspace_id)).require_push()


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
