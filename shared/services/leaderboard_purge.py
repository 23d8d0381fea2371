"""Deleting a leaderboard: hidden at once, then everything it owned purged by queued passes.

DELETE marks the leaderboard (`deleted_at`, one version-checked write) and queues purge
pass 0. From the mark on, the Leaderboards store treats it as missing, so every route
answers 404 and consolidation, run-due and the reaper pass it by; only DeletedLeaderboards,
the purge's own view, still sees it.

The purge works in passes, each a queued task named `purge-{leaderboard}-{step}`:

1. Until SETTLE after the mark, a pass stops the leaderboard's unfinished runs (so their
   queued chunks stand down instead of calling models) and queues the next pass for when
   SETTLE is over. A request or task that read the leaderboard just before the mark may
   still write something (a trace, a pushed batch, a chunk's results); none runs longer
   than SETTLE, so nothing new can appear after it.
2. After SETTLE a pass sweeps what the leaderboard owned, BATCH documents per commit or
   BATCH blobs at a time, at most PASS_BUDGET deletions per pass: the documents that name
   the leaderboard, each run's chunk records and blobs and then the run, the dataset blobs
   and the version pointer. A pass whose sweep found everything gone deletes the
   leaderboard document; otherwise it queues the next pass.

Why a crash anywhere loses nothing: every step deletes what a query still finds, so a pass
that dies is delivered again and carries on with what is left; a run goes after its chunk
records and blobs, which are found only through it; the leaderboard document goes last, so
an unfinished purge can always be found again. A pass older than the newest one queued
stands down, so one chain of passes works at a time (two at once would only delete the same
things). When no pass can be queued (the queue was down at DELETE, or a task ran out of
retries), the operator's `purge-deleted` job queues a fresh one once the last is
STALLED_AFTER late.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from shared.domain.run import Run
from shared.domain.times import iso, parse_iso
from shared.errors import NotFoundError
from shared.ports import Data, Deps, Query, Transaction, Unavailable
from shared.services import quality
from shared.services.push_quota import PUSH_QUOTA
from shared.services.schedules import SLOTS
from shared.services.spend import SPEND
from shared.stores.leaderboards import Candidates, DeletedLeaderboards
from shared.stores.push_datasets import DatasetEdits, PushBatches, PushDatasets, PushTokens
from shared.stores.runs import Annotations, RunChunks, Runs
from shared.stores.traces import Traces

PURGE_TASK = "purge_leaderboard"
# Longer than any request or task may run (the functions' timeout is 540 s): whatever read
# the leaderboard alive before the mark has written by then.
SETTLE = timedelta(minutes=10)
# How late the queued pass may be before the purge-deleted job queues another one.
STALLED_AFTER = timedelta(minutes=15)
PASS_BUDGET = 2_000  # deletions per pass, so a pass ends well within a task's deadline
BATCH = 100  # documents per commit (Firestore takes up to 500), blobs deleted side by side
RUN_PAGE = 50
STALLED_PAGE = 200
# Documents that name their leaderboard, credentials first.
OWNED_BY_LEADERBOARD = (PushTokens.collection, Candidates.collection, PushBatches.collection, DatasetEdits.collection,
                        PUSH_QUOTA, SPEND, Traces.collection, Annotations.collection, SLOTS, quality.DAYS, quality.HOURS)
UNFINISHED = ("queued", "running", "awaiting_human")
log = logging.getLogger(__name__)


async def queue_purge(deps: Deps, leaderboard_id: str) -> None:
    """Queue the first pass of a just-deleted leaderboard's purge; with the queue down, the job does it later."""
    try:
        await _enqueue(deps, leaderboard_id, 0, 0.0)
    except Unavailable as exc:
        log.warning("purge of leaderboard %s left to the purge-deleted job: %s", leaderboard_id, exc)


async def purge_pass(deps: Deps, payload: Data) -> None:
    """One pass of a deleted leaderboard's purge (the PURGE_TASK handler); nothing for any other leaderboard."""
    board = await DeletedLeaderboards(deps.documents).get(payload["leaderboard_id"])
    step = payload["step"]
    if board is None or step < board.purge_step:
        return  # purged already, never deleted, or a newer pass took over
    now = deps.clock.now()
    settled_at = parse_iso(str(board.deleted_at)) + SETTLE  # marked: DeletedLeaderboards sees nothing else
    if now < settled_at:
        await _stop_runs(deps, board.id, iso(now))
        await _queue_pass(deps, board.id, step + 1, settled_at)
    elif await _Sweep(deps, PASS_BUDGET).everything(board.id):
        await DeletedLeaderboards(deps.documents).delete(board.id)
    else:
        await _queue_pass(deps, board.id, step + 1, now)


async def resume_stalled_purges(deps: Deps) -> list[Data]:
    """Queue a fresh pass for every purge whose last pass is STALLED_AFTER late: `{leaderboard_id, action}`.

    `requeued` when it was queued, `deferred` when the queue is still down (the next call tries again).
    """
    now = deps.clock.now()
    resumed: list[Data] = []
    for board in await DeletedLeaderboards(deps.documents).oldest(STALLED_PAGE):
        if parse_iso(str(board.purge_due_at or board.deleted_at)) + STALLED_AFTER > now:
            continue  # its pass is queued and not late yet
        try:
            await _queue_pass(deps, board.id, board.purge_step + 1, now)
        except Unavailable:
            resumed.append({"leaderboard_id": board.id, "action": "deferred"})
            continue
        resumed.append({"leaderboard_id": board.id, "action": "requeued"})
    return resumed


async def _enqueue(deps: Deps, leaderboard_id: str, step: int, delay_seconds: float) -> None:
    await deps.queue.enqueue(PURGE_TASK, {"leaderboard_id": leaderboard_id, "step": step},
                             name=f"purge-{leaderboard_id}-{step}", delay_seconds=delay_seconds)


async def _queue_pass(deps: Deps, leaderboard_id: str, step: int, due: datetime) -> None:
    """Queue pass `step` to run at `due`, then record it as the newest.

    Queued first: a pass that dies in between is delivered again and queues the same name,
    which the queue refuses; recorded first, the redelivered pass would stand down with
    nothing queued after it.
    """
    await _enqueue(deps, leaderboard_id, step, max(0.0, (due - deps.clock.now()).total_seconds()))
    with contextlib.suppress(NotFoundError):  # the pass just queued already finished the purge
        await DeletedLeaderboards(deps.documents).change(
            leaderboard_id, lambda board: board.purge_moved_to(step, iso(due)))


async def _stop_runs(deps: Deps, leaderboard_id: str, at: str) -> None:
    """Cancel the leaderboard's unfinished runs: their queued chunks then end without calling a model."""
    runs = Runs(deps.documents)
    for status in UNFINISHED:
        for run in await runs.find({"leaderboard_id": leaderboard_id, "status": status}, order=(), limit=RUN_PAGE):
            with contextlib.suppress(NotFoundError):
                await runs.change(run.id, _cancelled(at))


def _cancelled(at: str) -> Callable[[Run], None]:
    def apply(run: Run) -> None:
        if not run.finished:
            run.status, run.error, run.finished_at = "cancelled", "The leaderboard was deleted.", at

    return apply


def _deleting(collection: str, doc_ids: list[str]) -> Callable[[Transaction], Awaitable[None]]:
    """A transaction that only deletes: the whole batch in one commit."""

    async def delete(tx: Transaction) -> None:
        for doc_id in doc_ids:
            tx.delete(collection, doc_id)

    return delete


class _Sweep:
    """Deletes what one leaderboard owned, a batch at a time, until all is gone or this pass's budget is spent."""

    def __init__(self, deps: Deps, budget: int) -> None:
        self.deps, self.left = deps, budget

    @property
    def spent(self) -> bool:
        return self.left <= 0

    async def everything(self, leaderboard_id: str) -> bool:
        """True when nothing the leaderboard owned is left but its own document."""
        for collection in OWNED_BY_LEADERBOARD:
            await self.documents(collection, {"leaderboard_id": leaderboard_id})
        await self.runs(leaderboard_id)
        await self.blobs(f"datasets/{leaderboard_id}/")  # every version and label set
        pointers = PushDatasets(self.deps.documents)  # the version pointer, keyed by the leaderboard's id
        if not self.spent and await pointers.get(leaderboard_id) is not None:
            await pointers.delete(leaderboard_id)
            self.left -= 1
        return not self.spent

    async def documents(self, collection: str, where: Data) -> None:
        while not self.spent:
            found = await self.deps.documents.query(Query(collection, where=where, limit=min(BATCH, self.left),
                                                          select=(next(iter(where)),)))
            if not found:
                return
            await self.deps.documents.run_transaction(_deleting(collection, [doc.id for doc in found]))
            self.left -= len(found)

    async def blobs(self, prefix: str) -> None:
        if self.spent:
            return
        keys = [blob.key for blob in await self.deps.blobs.list(prefix)][: self.left]
        for start in range(0, len(keys), BATCH):
            batch = keys[start:start + BATCH]
            await asyncio.gather(*(self.deps.blobs.delete(key) for key in batch))
            self.left -= len(batch)

    async def runs(self, leaderboard_id: str) -> None:
        """Each run's chunk records and blobs, then the run itself: they are found only through it."""
        while not self.spent:
            found = await self.deps.documents.query(Query(Runs.collection, where={"leaderboard_id": leaderboard_id},
                                                          limit=RUN_PAGE, select=("leaderboard_id",)))
            if not found:
                return
            for run in found:
                await self.documents(RunChunks.collection, {"run_id": run.id})
                await self.blobs(f"runs/{run.id}/")
                if self.spent:
                    return
                await self.deps.documents.delete(Runs.collection, run.id)
                self.left -= 1
