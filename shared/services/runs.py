"""Runs: start, list, inspect, cancel, and read the per-row results of a leaderboard run.

The work itself happens in queued tasks (see run_tasks): prepare the dataset snapshot,
then for each candidate one chunk of rows at a time, then rank.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from shared.domain.run import Run
from shared.domain.times import iso
from shared.errors import ConflictError, InvalidInput, ServiceUnavailable
from shared.ports import Data, Deps, Unavailable
from shared.stores.leaderboards import Candidates, Leaderboards
from shared.stores.runs import RunChunks, Runs

PREPARE_TASK, CHUNK_TASK, FINALIZE_TASK = "run_prepare", "run_chunk", "run_finalize"


async def start_run(deps: Deps, workspace_id: str, leaderboard_id: str, model_ids: list[str] | None,
                    run_source: str, trigger: str | None = None, improve: bool = False,
                    dataset_limit: Data | None = None) -> Run:
    """Queue a run of the chosen candidates (all when `model_ids` is None); answers at once."""
    board = (await Leaderboards(deps.documents).get_owned(leaderboard_id, workspace_id)).require_unarchived("a run")
    candidates = await Candidates(deps.documents).of(board)
    if model_ids is not None:
        known = {c.id: c for c in candidates}
        unknown = [model_id for model_id in model_ids if model_id not in known]
        if unknown:
            raise InvalidInput("Some model_ids are not candidates of this leaderboard.",
                               details=[{"field": "model_ids", "message": f"unknown: {', '.join(unknown)}"}])
        candidates = [known[model_id] for model_id in dict.fromkeys(model_ids)]
    if not candidates:
        raise ConflictError("The leaderboard has no candidate models to run.", code="no_candidates")
    if board.dataset_type == "GET" and not board.dataset_url:
        raise ConflictError("The leaderboard has no dataset URL.", code="no_dataset")
    run = Run(id=deps.ids.new_id(), workspace_id=workspace_id, leaderboard_id=leaderboard_id, run_source=run_source,
              trigger=trigger, eval_type=board.eval_type, candidate_ids=[c.id for c in candidates],
              candidates=[{"id": c.id, "name": c.name, "platform": c.platform} for c in candidates],
              created_at=iso(deps.clock.now()), improve=improve, dataset_limit=dataset_limit)
    runs = Runs(deps.documents)
    await runs.create(run)
    try:
        await queue_prepare(deps, run.id)
    except Unavailable:
        # Nothing would ever work on it: take it back, so the caller sees no run and may retry.
        # (If this process dies right here instead, the reaper queues the prepare task later.)
        await runs.delete(run.id)
        raise ServiceUnavailable("The task queue is unavailable, so no run was started; retry shortly.") from None
    return run


async def queue_prepare(deps: Deps, run_id: str) -> bool:
    """Queue the run's prepare task, once per run whoever asks (the name dedupes it)."""
    return await deps.queue.enqueue(PREPARE_TASK, {"run_id": run_id}, name=f"{run_id}-prepare")


async def get_run(deps: Deps, workspace_id: str, leaderboard_id: str, run_id: str) -> Run:
    await Leaderboards(deps.documents).get_owned(leaderboard_id, workspace_id)  # a deleted one's runs went with it
    return await Runs(deps.documents).get_on(run_id, leaderboard_id, workspace_id)


async def list_runs(deps: Deps, workspace_id: str, leaderboard_id: str, limit: int, offset: int
                    ) -> tuple[list[Run], int]:
    await Leaderboards(deps.documents).get_owned(leaderboard_id, workspace_id)
    return await Runs(deps.documents).page({"workspace_id": workspace_id, "leaderboard_id": leaderboard_id},
                                           limit, offset)


async def progress(deps: Deps, run: Run) -> dict[str, Any]:
    """Rows done per candidate and overall, from the finished chunk records."""
    per: dict[str, dict[str, int]] = {cid: {"rows_done": 0, "rows_failed": 0} for cid in run.candidate_ids}
    for chunk in await RunChunks(deps.documents).of(run.id):
        entry = per.setdefault(chunk.candidate_id, {"rows_done": 0, "rows_failed": 0})
        entry["rows_done"] += chunk.items
        entry["rows_failed"] += chunk.failed
    total = (run.rows or 0) * len(run.candidate_ids)
    done = sum(entry["rows_done"] for entry in per.values())
    return {"rows_total": total, "rows_done": done, "percent": round(100 * done / total, 1) if total else 0.0,
            "candidates": [{"candidate_id": cid, **entry} for cid, entry in per.items()]}


async def cancel_run(deps: Deps, workspace_id: str, leaderboard_id: str, run_id: str) -> Run:
    await get_run(deps, workspace_id, leaderboard_id, run_id)
    cancelled_at = iso(deps.clock.now())

    def cancel(run: Run) -> None:
        if run.finished:
            raise ConflictError(f"The run is already {run.status}.", code="run_finished")
        run.status, run.finished_at = "cancelled", cancelled_at

    return await Runs(deps.documents).change(run_id, cancel)


def result_key(run_id: str, candidate_id: str, chunk: int) -> str:
    return f"runs/{run_id}/results/{candidate_id}/{chunk:06d}.jsonl"


def rows_key(run_id: str, chunk: int) -> str:
    return f"runs/{run_id}/rows/{chunk:06d}.jsonl"


async def result_stream(deps: Deps, run: Run) -> AsyncIterator[bytes]:
    """Every per-row result of the run as JSONL, candidate by candidate, chunk by chunk."""
    for candidate_id in run.candidate_ids:
        for blob in await deps.blobs.list(f"runs/{run.id}/results/{candidate_id}/"):
            async for chunk in deps.blobs.read_stream(blob.key, chunk_size=256 * 1024):
                yield chunk
