"""Run tasks delivered twice, out of order, or never: counts stay right and no run stays running."""

from __future__ import annotations

import asyncio

import pytest

from shared.ports import Query
from shared.schemas.candidates import CandidateCreate
from shared.schemas.leaderboards import LeaderboardCreate
from shared.services import datasets, push_datasets, run_reaper, run_tasks, runs
from shared.services.candidates import add_candidate
from shared.services.consolidation import consolidate
from shared.services.leaderboards import create_leaderboard
from shared.services.workspaces import create_workspace
from shared.stores.runs import RunChunks, Runs
from tests.conftest import make_settings
from tests.upstream import running_upstream


@pytest.fixture
def settings(tmp_path):
    return make_settings(tmp_path, allow_private_urls=True, run_chunk_rows=3, candidate_concurrency=1)


@pytest.fixture
def upstream():
    with running_upstream() as server:
        yield server


async def _prepared_run(deps, upstream, rows: int = 7, workspace: str = "acme") -> dict:
    """A run with its snapshot taken (prepare ran) and no chunk run yet."""
    workspace = await create_workspace(deps, workspace)
    board = await create_leaderboard(deps, workspace.id, LeaderboardCreate.model_validate(
        {"name": "b", "system_prompt": "{input}", "dataset_type": "PUSH", "eval_type": "exact"}))
    await push_datasets.push(deps, workspace.id, board.id,
                             {"rows": [{"input": f"q\nA{n}", "expected": f"a{n}"} for n in range(rows)]})
    await consolidate(deps, board)
    await add_candidate(deps, workspace.id, board.id, CandidateCreate.model_validate(
        {"name": "echo", "platform": "Custom", "model_url": upstream.model_url("echo")}))
    run = await runs.start_run(deps, workspace.id, board.id, None, "api")
    await run_tasks.prepare(deps, {"run_id": run.id})
    return await Runs(deps.documents).get(run.id)


async def _chunk(deps, run, chunk: int) -> None:
    await run_tasks.run_chunk(deps, {"run_id": run.id, "candidate_id": run.candidate_ids[0], "chunk": chunk})


async def test_redelivered_and_reordered_chunks_count_once(deps, upstream):
    run = await _prepared_run(deps, upstream)
    assert (run.rows, run.chunks, run.chunk_rows) == (7, 2, 4)  # at least 4 x concurrency per chunk
    for chunk in (1, 0, 1, 0):  # out of order, with repeats
        await _chunk(deps, run, chunk)
    assert upstream.calls["echo"] == 7
    await run_tasks.finalize(deps, {"run_id": run.id})
    await run_tasks.finalize(deps, {"run_id": run.id})
    done = await Runs(deps.documents).get(run.id)
    assert done.status == "completed"
    assert done.ranking[0]["mean_score"] == 1.0 and done.ranking[0]["rows_scored"] == 7
    assert await deps.documents.count(Query(RunChunks.collection, where={"run_id": run.id})) == 2


async def test_twin_deliveries_at_the_same_time_record_one_result(deps, upstream):
    run = await _prepared_run(deps, upstream, rows=3)
    await asyncio.gather(_chunk(deps, run, 0), _chunk(deps, run, 0))
    results = await deps.blobs.list(f"runs/{run.id}/results/")
    assert len(results) == 1
    await run_tasks.finalize(deps, {"run_id": run.id})
    done = await Runs(deps.documents).get(run.id)
    assert done.ranking[0]["rows_scored"] == 3


async def test_a_run_whose_chunks_died_is_reaped_with_those_rows_failed(deps, upstream, clock):
    run = await _prepared_run(deps, upstream)
    await _chunk(deps, run, 0)  # chunk 1 never runs: its task ran out of retries
    assert await run_reaper.reap_stale_runs(deps) == []  # not stale yet
    clock.advance(minutes=deps.settings.stale_run_minutes + 1)
    assert await run_reaper.reap_stale_runs(deps) == [{"run_id": run.id, "action": "finished"}]
    done = await Runs(deps.documents).get(run.id)
    assert done.status == "completed"
    [entry] = done.ranking
    assert (entry["rows_scored"], entry["failures"]) == (4, 3)
    assert await run_reaper.reap_stale_runs(deps) == []


async def _rows_of(items):
    for item in items:
        yield item


@pytest.mark.parametrize(("limit", "expected"), [
    ({"auto": False, "rows": 3, "algorithm": "LAST_N"}, [7, 8, 9]),
    ({"auto": False, "rows": 20, "algorithm": "LAST_N"}, list(range(10))),
])
async def test_last_n_keeps_the_newest_rows(limit, expected):
    kept = [row["n"] async for row in datasets.limited(_rows_of({"n": n} for n in range(10)), limit)]
    assert kept == expected


async def test_random_limits_are_seeded_and_keep_dataset_order():
    limit = {"auto": False, "rows": 4, "algorithm": "RANDOM", "seed": 7}
    first = [row["n"] async for row in datasets.limited(_rows_of({"n": n} for n in range(100)), limit)]
    again = [row["n"] async for row in datasets.limited(_rows_of({"n": n} for n in range(100)), limit)]
    other = [row["n"] async for row in datasets.limited(_rows_of({"n": n} for n in range(100)), {**limit, "seed": 8})]
    assert first == again and len(first) == 4 and first == sorted(first) and first != other


async def test_a_run_whose_prepare_was_never_queued_is_queued_again_then_failed_if_it_never_starts(deps, clock):
    workspace = await create_workspace(deps, "acme")
    board = await create_leaderboard(deps, workspace.id, LeaderboardCreate.model_validate(
        {"name": "b", "system_prompt": "{input}", "dataset_type": "PUSH", "eval_type": "exact"}))
    await add_candidate(deps, workspace.id, board.id, CandidateCreate.model_validate(
        {"name": "echo", "platform": "OpenRouter", "model_url": "openai/gpt-4o-mini"}))
    queued = await runs.start_run(deps, workspace.id, board.id, None, "api")  # no worker runs in this test
    stuck = await Runs(deps.documents).create(queued.model_copy(update={"id": deps.ids.new_id()}))
    # ^ stored, then the process died before its enqueue
    assert await run_reaper.reap_stale_runs(deps) == []  # just created: their tasks may be on their way
    clock.advance(minutes=3)
    # Only the run without a queued prepare task gets one; the other's name is taken.
    assert await run_reaper.reap_stale_runs(deps) == [{"run_id": stuck.id, "action": "requeued"}]
    assert deps.queue.state(f"{stuck.id}-prepare") == ("queued", 0)
    assert await run_reaper.reap_stale_runs(deps) == []
    clock.advance(minutes=deps.settings.stale_run_minutes)
    reaped = await run_reaper.reap_stale_runs(deps)
    assert sorted(reaped, key=lambda r: r["run_id"]) == sorted(
        [{"run_id": run_id, "action": "failed"} for run_id in (queued.id, stuck.id)], key=lambda r: r["run_id"])
    assert (await Runs(deps.documents).get(stuck.id)).status == "failed"
