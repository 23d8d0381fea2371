"""The reaper: no run stays queued or running forever (the operator's `reap-stale` job).

A run still queued REQUEUE_AFTER after its last sign of life may have lost its prepare
task (the enqueue failed after the run was stored): it is queued again under the same
name, which the queue refuses if the task is still there. A run without progress for
`stale_run_minutes` is finished: never prepared, it fails; otherwise chunks whose tasks
died (retries exhausted, queue purged) count their rows as failed.
"""

from __future__ import annotations

from datetime import timedelta

from shared.domain.run import Run
from shared.domain.times import iso
from shared.ports import Data, Deps
from shared.services.run_tasks import fail, finalize
from shared.services.runs import queue_prepare
from shared.stores.leaderboards import DeletedLeaderboards
from shared.stores.runs import RunChunks, Runs

# A prepare task normally starts within seconds; a run still queued this long after it
# was stored may never have had its task queued.
REQUEUE_AFTER = timedelta(minutes=2)


async def reap_stale_runs(deps: Deps) -> list[Data]:
    """`{run_id, action}` for each run touched, the action being requeued, failed or finished."""
    now = deps.clock.now()
    stale, requeue = iso(now - timedelta(minutes=deps.settings.stale_run_minutes)), iso(now - REQUEUE_AFTER)
    touched: list[Data] = []
    for status in ("queued", "running"):
        for run in await Runs(deps.documents).find({"status": status}, order=()):
            last = await _last_progress(deps, run)
            if last >= requeue:
                continue
            if await DeletedLeaderboards(deps.documents).get(run.leaderboard_id) is not None:
                continue  # its leaderboard is being purged, which stops and removes its runs
            if last >= stale:
                if not run.prepared and await queue_prepare(deps, run.id):
                    touched.append({"run_id": run.id, "action": "requeued"})
            elif not run.prepared:
                await fail(deps, run, "The run was never prepared (its task ran out of retries).")
                touched.append({"run_id": run.id, "action": "failed"})
            else:
                await finalize(deps, {"run_id": run.id})
                touched.append({"run_id": run.id, "action": "finished"})
    return touched


async def _last_progress(deps: Deps, run: Run) -> str:
    """When the run last showed life: created, prepared, or its newest chunk recorded."""
    return max(run.created_at, run.started_at or "", await RunChunks(deps.documents).latest_at(run.id) or "")
