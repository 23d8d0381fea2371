"""Runs, the records their finished chunks leave, and the annotations of human runs."""

from __future__ import annotations

from shared.domain.run import Annotation, Run, RunChunk
from shared.ports import Order, Query
from shared.stores.base import Store


class Runs(Store[Run]):
    collection, aggregate, label = "runs", Run, "Run"

    async def get_on(self, run_id: str, leaderboard_id: str, workspace_id: str) -> Run:
        """A run of this leaderboard in this workspace (404 for any other)."""
        run = await self.get_owned(run_id, workspace_id)
        if run.leaderboard_id != leaderboard_id:
            raise self.not_found(run_id)
        return run


class RunChunks(Store[RunChunk]):
    collection, aggregate, label = "run_chunks", RunChunk, "Run chunk"

    async def count(self, run_id: str) -> int:
        return await self.documents.count(Query(self.collection, where={"run_id": run_id}))

    async def of(self, run_id: str) -> list[RunChunk]:
        return await self.find({"run_id": run_id}, order=())

    async def latest_at(self, run_id: str) -> str | None:
        """When the run's newest chunk was recorded."""
        latest = await self.documents.query(Query(self.collection, where={"run_id": run_id}, limit=1,
                                                  order_by=(Order("created_at", descending=True),),
                                                  select=("created_at",)))
        return latest[0].data["created_at"] if latest else None


class Annotations(Store[Annotation]):
    collection, aggregate, label = "annotations", Annotation, "Annotation item"
