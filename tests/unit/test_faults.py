"""Faults in the middle of work: a worker dying at any write or mid-call, a store aborting transactions.

After each fault the work is redone on healthy ports, as the queue's redelivery or the
client's retry would, and the outcome must be exact: every row scored once, every pushed
row in the dataset once.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections import Counter

import pytest

from shared.ports import Query, Unavailable
from shared.services import push_datasets, run_tasks
from shared.services.consolidation import consolidate
from shared.stores.runs import RunChunks, Runs
from tests.conftest import make_settings
from tests.faults import Aborting, Budget, Crash, Crashing
from tests.unit.test_push_consolidation import _push_board, _rows
from tests.unit.test_run_faults import _prepared_run
from tests.upstream import running_upstream


@pytest.fixture
def settings(tmp_path):
    return make_settings(tmp_path, allow_private_urls=True, run_chunk_rows=3, candidate_concurrency=1)


async def _finish(deps, run) -> dict:
    await run_tasks.finalize(deps, {"run_id": run.id})
    return await Runs(deps.documents).get(run.id)


def _chunk_payload(run, chunk: int) -> dict:
    return {"run_id": run.id, "candidate_id": run.candidate_ids[0], "chunk": chunk}


async def test_a_chunk_dying_at_any_write_is_redone_and_counts_each_row_once(deps):
    with running_upstream() as upstream:
        crash_points = 0
        for writes_before_crash in range(30):
            run = await _prepared_run(deps, upstream, rows=7, workspace=f"acme-{writes_before_crash}")
            budget = Budget(writes_before_crash)  # one process: its writes to both stores count
            dying = dataclasses.replace(deps, documents=Crashing(deps.documents, budget),
                                        blobs=Crashing(deps.blobs, budget))
            try:
                await run_tasks.run_chunk(dying, _chunk_payload(run, 0))
            except Crash:
                crash_points += 1
                await run_tasks.run_chunk(deps, _chunk_payload(run, 0))  # the redelivery
            else:
                break
            await run_tasks.run_chunk(deps, _chunk_payload(run, 1))
            done = await _finish(deps, run)
            [entry] = done.ranking
            assert (done.status, entry["rows_scored"], entry["failures"]) == ("completed", 7, 0)
            assert await deps.documents.count(Query(RunChunks.collection, where={"run_id": run.id})) == 2
        assert crash_points >= 2  # the result blob and the chunk record were both interrupted


async def test_a_chunk_killed_while_its_model_calls_are_in_flight_is_redone(deps):
    with running_upstream(delay_seconds=0.3) as upstream:
        run = await _prepared_run(deps, upstream, rows=4)
        with pytest.raises(TimeoutError):  # the instance is stopped mid-call
            await asyncio.wait_for(run_tasks.run_chunk(deps, _chunk_payload(run, 0)), timeout=0.1)
        assert await deps.blobs.list(f"runs/{run.id}/results/") == []
        await run_tasks.run_chunk(deps, _chunk_payload(run, 0))
        done = await _finish(deps, run)
        assert done.ranking[0]["rows_scored"] == 4 and done.ranking[0]["failures"] == 0


async def test_aborted_transactions_lose_and_duplicate_no_pushed_row(deps):
    board = await _push_board(deps, dedupe=False)
    sent = [f"row {n}" for n in range(12)]
    for start in range(0, len(sent), 4):
        rows, key = sent[start:start + 4], f"push-{start}"
        flaky = dataclasses.replace(deps, documents=Aborting(deps.documents, aborts=1 + start // 4))
        with pytest.raises(Unavailable):  # the caller sees a 503 and retries with the same key
            await push_datasets.push(flaky, board.workspace_id, board.id,
                                     {"rows": [{"input": r} for r in rows]}, idempotency_key=key)
        answer, replayed = await push_datasets.push(deps, board.workspace_id, board.id,
                                                    {"rows": [{"input": r} for r in rows]}, idempotency_key=key)
        assert answer["accepted_rows"] == 4 and not replayed
        _, replayed = await push_datasets.push(deps, board.workspace_id, board.id,
                                               {"rows": [{"input": r} for r in rows]}, idempotency_key=key)
        assert replayed  # a second retry stores nothing
    await consolidate(deps, board)
    assert Counter(row["input"] for row in await _rows(deps, board.id)) == Counter(sent)
    usage = await push_datasets.status(deps, board.workspace_id, board.id)
    assert usage["consolidated_rows"] == 12 and usage["pending_events"] == 0
