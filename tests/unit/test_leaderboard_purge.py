"""Deleting a leaderboard leaves nothing of it behind, on both backends, even when the purge dies along the way.

Every document and blob is counted by what it names (the leaderboard's id, or one of its
runs' ids) across every collection the store holds and every key the bucket holds, so a
kind of document the purge forgot would show up here as well.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from shared.adapters.sqlite import SqliteDocuments
from shared.ports import Deps, Query, Unavailable
from shared.schemas.candidates import CandidateCreate
from shared.schemas.leaderboards import LeaderboardCreate, LeaderboardUpdate
from shared.services import (
    auto_labels,
    inference,
    leaderboard_purge,
    online_eval,
    push_datasets,
    run_tasks,
    runs,
    schedules,
)
from shared.services.candidates import add_candidate
from shared.services.consolidation import consolidate
from shared.services.leaderboards import create_leaderboard, delete_leaderboard, update_leaderboard
from shared.services.push_tokens import create_push_token
from shared.services.workspaces import create_workspace
from shared.stores.leaderboards import DeletedLeaderboards, Leaderboards
from shared.stores.runs import Runs
from tests.conftest import SteppedClock, make_settings
from tests.faults import Budget, Crash, Crashing
from tests.purging import purge_until_gone
from tests.upstream import running_upstream

HOURLY = {"version": 2, "triggers": {"cron": {"enabled": True, "preset": "HOURLY"}}}
# What a populated leaderboard holds: each must be there before the purge, so the test proves something.
EVERY_KIND = {"leaderboards", "leaderboard_models", "push_datasets", "push_batches", "push_tokens",
              "push_quota_shards", "spend_shards", "runs", "run_chunks", "annotations", "traces", "schedule_slots",
              "quality_days", "quality_hours", "blobs datasets/", "blobs runs/"}


@pytest.fixture
def settings(tmp_path):
    return make_settings(tmp_path, allow_private_urls=True, run_chunk_rows=2, candidate_concurrency=1)


@pytest.fixture(scope="module")
def upstream():
    with running_upstream() as server:
        yield server


@pytest.fixture
def backend(backend: Deps) -> Deps:
    """Each backend, on a clock the test steps through the purge's settling time."""
    backend.clock = SteppedClock(datetime(2026, 3, 14, 9, 0, tzinfo=UTC))
    return backend


@dataclasses.dataclass(frozen=True)
class Board:
    workspace_id: str
    id: str


async def _run_to_the_end(deps: Deps, run_id: str) -> None:
    """What the queue would do with the run's tasks, one after another."""
    await run_tasks.prepare(deps, {"run_id": run_id})
    run = await Runs(deps.documents).get(run_id)
    for candidate_id in run.candidate_ids:
        for chunk in range(run.chunks or 0):
            await run_tasks.run_chunk(deps, {"run_id": run_id, "candidate_id": candidate_id, "chunk": chunk})
    await run_tasks.finalize(deps, {"run_id": run_id})


async def _populated(deps: Deps, upstream, name: str) -> Board:
    """A PUSH leaderboard holding one of everything a leaderboard can own."""
    workspace = await create_workspace(deps, name)
    board = await create_leaderboard(deps, workspace.id, LeaderboardCreate.model_validate({
        "name": name, "system_prompt": "{input}", "dataset_type": "PUSH", "schedule": HOURLY,
        "online_eval": {"sample_rate": 1},
        "eval_metadata": {"labeler_provider": "Custom", "labeler_url": upstream.model_url("echo")}}))
    await push_datasets.push(deps, workspace.id, board.id, {"rows": [
        *({"input": f"q\nA{n}", "expected": f"a{n}"} for n in range(3)), {"input": "waiting for a label"}]})
    await consolidate(deps, board)  # a dataset version, and consolidated batches
    await push_datasets.push(deps, workspace.id, board.id, {"input": "still pending"})
    await auto_labels.generate(deps, board)  # a label set beside the version
    await create_push_token(deps, workspace.id, board.id, "webhook")
    candidate = await add_candidate(deps, workspace.id, board.id, CandidateCreate.model_validate(
        {"name": "echo", "platform": "Custom", "model_url": upstream.model_url("echo")}))
    await update_leaderboard(deps, workspace.id, board.id, LeaderboardUpdate.model_validate(
        {"chosen_leaderboard_model_id": candidate.id}))
    for question in ("hello", "again"):  # traces, and spend: the upstream reports a cost
        _, trace, _ = await inference.infer(deps, workspace.id, board.id, {"input": question, "expected": question})
        await inference.save_trace(deps, trace)
        await online_eval.score_task(deps, {"trace_id": trace.id})  # quality counters
    await _run_to_the_end(deps, (await runs.start_run(deps, workspace.id, board.id, None, "api")).id)
    await update_leaderboard(deps, workspace.id, board.id, LeaderboardUpdate.model_validate({"eval_type": "human"}))
    await _run_to_the_end(deps, (await runs.start_run(deps, workspace.id, board.id, None, "api")).id)  # annotations
    deps.clock.advance(hours=1, minutes=1)
    await schedules.run_due(deps)  # a schedule slot, and a run still queued
    return Board(workspace.id, board.id)


async def _collections(deps: Deps) -> list[str]:
    """Every collection the store holds, whatever wrote it."""
    documents = getattr(deps.documents, "inner", deps.documents)  # behind the read cache, if any
    if isinstance(documents, SqliteDocuments):
        return [row[0] for row in documents._db.execute("SELECT DISTINCT collection FROM documents")]
    prefix = documents._prefix
    return [found.id[len(prefix):] async for found in documents._client.collections() if found.id.startswith(prefix)]


async def _owned(deps: Deps, board_id: str, run_ids: list[str]) -> dict[str, int]:
    """How many documents per collection, and blobs per top folder, name the leaderboard or one of its runs."""
    owned: dict[str, int] = {}
    names = [("leaderboard_id", board_id), *(("run_id", run_id) for run_id in run_ids)]
    for collection in await _collections(deps):
        ids = {doc.id for field, value in names
               for doc in await deps.documents.query(Query(collection, where={field: value}))}
        if await deps.documents.get(collection, board_id) is not None:
            ids.add(board_id)
        if ids:
            owned[collection] = len(ids)
    for blob in await deps.blobs.list(""):
        if board_id in blob.key or any(run_id in blob.key for run_id in run_ids):
            folder = f"blobs {blob.key.split('/', 1)[0]}/"
            owned[folder] = owned.get(folder, 0) + 1
    return owned


async def _run_ids(deps: Deps, board_id: str) -> list[str]:
    return [run.id for run in await Runs(deps.documents).find({"leaderboard_id": board_id}, order=())]


async def test_a_purge_removes_every_document_and_blob_the_leaderboard_owned_and_nothing_else(backend, upstream):
    doomed = await _populated(backend, upstream, "doomed")
    kept = await _populated(backend, upstream, "kept")
    doomed_runs, kept_runs = await _run_ids(backend, doomed.id), await _run_ids(backend, kept.id)
    assert set(await _owned(backend, doomed.id, doomed_runs)) == EVERY_KIND
    kept_before = await _owned(backend, kept.id, kept_runs)

    await delete_leaderboard(backend, doomed.workspace_id, doomed.id)
    passes = await purge_until_gone(backend, backend.clock, doomed.id)

    assert await _owned(backend, doomed.id, doomed_runs) == {}
    assert await _owned(backend, kept.id, kept_runs) == kept_before
    assert passes >= 2  # one that stopped its runs and waited, one after the wait that swept


async def test_a_purge_that_dies_at_every_write_finishes_when_delivered_again(backend, upstream):
    doomed = await _populated(backend, upstream, "doomed")
    run_ids = await _run_ids(backend, doomed.id)
    await delete_leaderboard(backend, doomed.workspace_id, doomed.id)
    deaths = 0
    while (board := await DeletedLeaderboards(backend.documents).get(doomed.id)) is not None:
        backend.clock.advance(minutes=11)  # past the wait before the sweep
        budget = Budget(1)  # each delivery gets one write done, then dies at its next
        dying = dataclasses.replace(backend, documents=Crashing(backend.documents, budget),
                                    blobs=Crashing(backend.blobs, budget))
        try:
            await leaderboard_purge.purge_pass(dying, {"leaderboard_id": doomed.id, "step": board.purge_step})
        except Crash:
            deaths += 1
        assert deaths < 200, "the purge makes no progress across deliveries"
    assert deaths >= 10  # it died in the stopping of runs, the sweep and its bookkeeping
    assert await _owned(backend, doomed.id, run_ids) == {}


async def test_a_purge_task_never_touches_a_live_leaderboard(backend, upstream):
    live = await _populated(backend, upstream, "live")
    run_ids = await _run_ids(backend, live.id)
    before = await _owned(backend, live.id, run_ids)
    backend.clock.advance(hours=1)
    await leaderboard_purge.purge_pass(backend, {"leaderboard_id": live.id, "step": 0})
    assert await _owned(backend, live.id, run_ids) == before


class _DownQueue:
    async def enqueue(self, *args, **kwargs) -> bool:
        raise Unavailable("the task queue is down")


async def test_when_the_queue_is_down_at_delete_the_purge_deleted_job_starts_the_purge_later(deps, clock):
    workspace = await create_workspace(deps, "acme")
    board = await create_leaderboard(deps, workspace.id, LeaderboardCreate.model_validate(
        {"name": "b", "system_prompt": "{input}", "dataset_type": "PUSH"}))
    await push_datasets.push(deps, workspace.id, board.id, {"input": "a row"})
    working, deps.queue = deps.queue, _DownQueue()
    await delete_leaderboard(deps, workspace.id, board.id)  # answers, the queue notwithstanding
    assert await Leaderboards(deps.documents).get(board.id) is None
    assert await leaderboard_purge.resume_stalled_purges(deps) == []  # not late yet
    clock.advance(minutes=16)
    assert await leaderboard_purge.resume_stalled_purges(deps) == [{"leaderboard_id": board.id, "action": "deferred"}]
    deps.queue = working
    assert await leaderboard_purge.resume_stalled_purges(deps) == [{"leaderboard_id": board.id, "action": "requeued"}]
    assert working.state(f"purge-{board.id}-1") == ("queued", 0)
    assert await leaderboard_purge.resume_stalled_purges(deps) == []  # queued now: not late any more
    await purge_until_gone(deps, clock, board.id)
    assert await deps.documents.count(Query("push_batches", where={"leaderboard_id": board.id})) == 0


async def test_an_older_pass_stands_down_once_a_newer_one_was_queued(deps, clock):
    workspace = await create_workspace(deps, "acme")
    board = await create_leaderboard(deps, workspace.id, LeaderboardCreate.model_validate(
        {"name": "b", "system_prompt": "{input}", "dataset_type": "PUSH"}))
    await delete_leaderboard(deps, workspace.id, board.id)
    await leaderboard_purge.purge_pass(deps, {"leaderboard_id": board.id, "step": 0})  # stops runs, queues pass 1
    clock.advance(minutes=11)
    no_writes = Budget(0)  # any write would raise Crash
    late = dataclasses.replace(deps, documents=Crashing(deps.documents, no_writes),
                               blobs=Crashing(deps.blobs, no_writes))
    await leaderboard_purge.purge_pass(late, {"leaderboard_id": board.id, "step": 0})  # a late redelivery of pass 0
    assert (await DeletedLeaderboards(deps.documents).get(board.id)).purge_step == 1
