"""Human scoring: rows of a `human` run wait in an annotation queue until someone scores them.

When a human run's model calls are done, finalize opens one annotation per (candidate,
row) and the run is `awaiting_human`. Each score is stored on its annotation; when none
is pending any more the run is ranked and completed, like an automatic one.
"""

from __future__ import annotations

import uuid
from typing import Any

from shared.domain.run import Annotation, Run
from shared.domain.times import iso
from shared.errors import ConflictError
from shared.ports import AlreadyExists, Data, Deps, Order, Query
from shared.services.runs import FINALIZE_TASK, get_run
from shared.stores.runs import Annotations


def item_id(run_id: str, candidate_id: str, row_id: str) -> str:
    """A stable UUID per (run, candidate, row), so the queue is addressable like any resource."""
    return str(uuid.uuid5(uuid.UUID(run_id), f"{candidate_id}\x00{row_id}"))


async def open_annotations(deps: Deps, run: Run, results: list[Data]) -> None:
    """One pending annotation per result awaiting a human (idempotent: existing ones are kept)."""
    store = Annotations(deps.documents)
    for result in results:
        try:
            await store.create(Annotation(
                id=item_id(run.id, result["candidate_id"], result["row_id"]), run_id=run.id,
                workspace_id=run.workspace_id, leaderboard_id=run.leaderboard_id,
                candidate_id=result["candidate_id"], row_id=result["row_id"], input=result["input"],
                expected=result.get("expected"), output=result["output"], created_at=iso(deps.clock.now())))
        except AlreadyExists:
            pass


async def scores(deps: Deps, run_id: str) -> dict[tuple[str, str], float]:
    """(candidate, row) -> human score, for every scored annotation of the run."""
    done = await deps.documents.query(Query(Annotations.collection, where={"run_id": run_id, "status": "scored"},
                                            select=("candidate_id", "row_id", "score")))
    return {(d.data["candidate_id"], d.data["row_id"]): d.data["score"] for d in done}


async def list_annotations(deps: Deps, workspace_id: str, leaderboard_id: str, run_id: str, status: str | None,
                           limit: int, offset: int) -> tuple[list[Annotation], int]:
    await get_run(deps, workspace_id, leaderboard_id, run_id)
    where: dict[str, Any] = {"run_id": run_id, **({"status": status} if status else {})}
    return await Annotations(deps.documents).page(where, limit, offset, order=(Order("created_at"),))


async def annotate(deps: Deps, workspace_id: str, leaderboard_id: str, run_id: str, annotation_id: str,
                   score: float, comment: str | None) -> Annotation:
    run = await get_run(deps, workspace_id, leaderboard_id, run_id)
    store = Annotations(deps.documents)
    annotation = await store.get(annotation_id)
    if annotation is None or annotation.run_id != run_id:
        raise store.not_found(annotation_id)
    if run.status != "awaiting_human":
        raise ConflictError(f"The run is {run.status}; annotations are closed.", code="run_not_awaiting_human")
    annotation.scored(score, comment, iso(deps.clock.now()))
    await store.update(annotation_id, annotation.stored())  # the last score given wins
    pending = await deps.documents.count(Query(Annotations.collection, where={"run_id": run_id, "status": "pending"}))
    if pending == 0:
        # Ranked by the same task as automatic runs; the name dedupes a burst of last scores.
        await deps.queue.enqueue(FINALIZE_TASK, {"run_id": run_id}, name=f"{run_id}-finalize-human")
    return annotation
