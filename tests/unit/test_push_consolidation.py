"""Push quotas and consolidation on both backends, with crashes injected at every write.

The GCP side runs on the Firestore and GCS emulators. A crash is simulated by a port
wrapper that raises on its N-th write; the run is then repeated on healthy ports, and
the dataset must hold every accepted row exactly once.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections import Counter
from typing import Any

import pytest

from shared.ports import Deps, Query
from shared.schemas.leaderboards import LeaderboardCreate
from shared.services import dataset_items, push_datasets, push_quota
from shared.services.consolidation import consolidate, read_dataset
from shared.services.leaderboards import create_leaderboard
from shared.services.workspaces import create_workspace
from shared.stores.leaderboards import Leaderboards
from shared.stores.push_datasets import DatasetEdits, PushBatches
from tests.faults import Budget, Crash, Crashing


async def _push_board(deps: Deps, **settings: Any) -> dict:
    workspace = await create_workspace(deps, f"ws-{deps.ids.new_id()[:8]}")
    body = {"name": "pushes", "system_prompt": "{input}", "dataset_type": "PUSH", **settings}
    return await create_leaderboard(deps, workspace.id, LeaderboardCreate.model_validate(body))


async def _rows(deps: Deps, board_id: str) -> list[dict]:
    _, chunks = await read_dataset(deps, board_id)
    if chunks is None:
        return []
    data = b"".join([chunk async for chunk in chunks])
    return [json.loads(line) for line in data.splitlines()]


async def _push_inputs(deps: Deps, board: dict, inputs: list[str]) -> None:
    response, _ = await push_datasets.push(deps, board.workspace_id, board.id,
                                           {"rows": [{"input": text} for text in inputs]})
    assert response["accepted_rows"] == len(inputs)


async def test_consolidation_survives_a_crash_at_every_write(backend: Deps):
    # dedupe off, so a doubled row would show up instead of being dropped as a duplicate
    board = await _push_board(backend, dedupe=False)
    await _push_inputs(backend, board, ["first", "dup"])
    await consolidate(backend, board)
    await _push_inputs(backend, board, ["dup", "second"])
    await _push_inputs(backend, board, ["third"])
    expected = Counter(["first", "dup", "dup", "second", "third"])
    crash_points = 0
    for writes_before_crash in range(100):
        snapshot_board = await _push_board(backend, dedupe=False)
        await _push_inputs(backend, snapshot_board, ["first", "dup"])
        await consolidate(backend, snapshot_board)
        await _push_inputs(backend, snapshot_board, ["dup", "second"])
        await _push_inputs(backend, snapshot_board, ["third"])
        budget = Budget(writes_before_crash)
        crashing = dataclasses.replace(backend, documents=Crashing(backend.documents, budget),
                                       blobs=Crashing(backend.blobs, budget))
        try:
            await consolidate(crashing, snapshot_board)
        except Crash:
            crash_points += 1
            await consolidate(backend, snapshot_board)  # the re-run after the crash
            await consolidate(backend, snapshot_board)  # and one more, which must change nothing
            assert Counter(row["input"] for row in await _rows(backend, snapshot_board.id)) == expected
            pending = await backend.documents.count(Query(
                PushBatches.collection, where={"leaderboard_id": snapshot_board.id, "state": "pending"}))
            assert pending == 0
            continue
        break
    assert crash_points >= 6  # blobs, manifest, pointer, marking: every step was interrupted
    assert Counter(row["input"] for row in await _rows(backend, board.id)) == Counter(["first", "dup"])


async def _edited_board(deps: Deps) -> Any:
    """Version 1 with rows a, b, c; pending: a push of d and of b again, an edit of a, a deletion of b."""
    board = await _push_board(deps, dedupe=False)
    await push_datasets.push(deps, board.workspace_id, board.id, {"rows": [{"id": k, "input": k} for k in "abc"]})
    await consolidate(deps, board)
    await push_datasets.push(deps, board.workspace_id, board.id, {"rows": [{"id": "d", "input": "d"},
                                                                          {"id": "b", "input": "b again"}]})
    await dataset_items.edit_item(deps, board.workspace_id, board.id, "a",
                                  lambda edit, now, item: edit.change({"input": "A!"}, now) or True, None)
    await dataset_items.edit_item(deps, board.workspace_id, board.id, "b",
                                  lambda edit, now, item: edit.delete(now) or True, None)
    return board


async def test_folding_edits_survives_a_crash_at_every_write(backend: Deps):
    crash_points = 0
    for writes_before_crash in range(100):
        board = await _edited_board(backend)
        budget = Budget(writes_before_crash)
        crashing = dataclasses.replace(backend, documents=Crashing(backend.documents, budget),
                                       blobs=Crashing(backend.blobs, budget))
        crashed = False
        try:
            await consolidate(crashing, board)
        except Crash:
            crashed, crash_points = True, crash_points + 1
            await consolidate(backend, board)  # the re-run after the crash
        again = await consolidate(backend, board)  # which leaves nothing to do
        assert (again.changed, again.rows) == (False, 3)
        assert [(row["id"], row["input"]) for row in await _rows(backend, board.id)] == [
            ("a", "A!"), ("c", "c"), ("d", "d")]
        item = await dataset_items.get_item(backend, board.workspace_id, board.id, "b")
        assert (item["input"], bool(item["deleted_at"]), item["edit_pending"]) == ("b", True, False)
        assert await backend.documents.count(DatasetEdits(backend.documents).of_board(board.id)) == 0
        if not crashed:
            break
    assert crash_points >= 8  # every blob, the manifests, the pointer, marking and dropping the edits


async def test_two_racing_consolidations_commit_once(backend: Deps):
    board = await _push_board(backend, dedupe=False)
    await _push_inputs(backend, board, ["a", "b", "c"])
    results = await asyncio.gather(consolidate(backend, board), consolidate(backend, board),
                                   return_exceptions=True)
    assert sum(1 for result in results if not isinstance(result, Exception)) >= 1
    await consolidate(backend, board)
    assert sorted(row["input"] for row in await _rows(backend, board.id)) == ["a", "b", "c"]


async def test_concurrent_pushers_accept_exactly_the_daily_limit(backend: Deps):
    limit = 23
    board = await _push_board(backend, daily_event_limit=limit, dedupe=False)
    sizes = [3, 1, 4, 1, 5, 2, 6, 2, 3, 4]

    async def pusher(n: int, size: int) -> int:
        response, _ = await push_datasets.push(backend, board.workspace_id, board.id,
                                               {"rows": [{"input": f"{n}-{r}"} for r in range(size)]})
        return response["accepted_rows"]

    accepted = await asyncio.gather(*(pusher(n, size) for n, size in enumerate(sizes)))
    assert sum(accepted) == limit < sum(sizes)
    await consolidate(backend, board)
    assert len(await _rows(backend, board.id)) == limit
    assert (await Leaderboards(backend.documents).get(board.id)).daily_event_limit == limit


@pytest.mark.parametrize("after_write", [False, True], ids=["dies-before-a-write", "dies-after-a-write"])
async def test_a_push_dying_at_any_write_leaves_quota_equal_to_stored_rows(backend: Deps, after_write: bool):
    """The process dies at each write of a push (quota and batch, then the consolidation request);
    the client retries with its Idempotency-Key, and the used quota always equals the stored rows."""
    board = await _push_board(backend, dedupe=False, consolidate_every_events=1)
    sent: list[str] = []
    crash_points = 0
    for writes_before_crash in range(10):
        rows = [f"push {writes_before_crash} row {n}" for n in range(3)]
        body, key = {"rows": [{"input": text} for text in rows]}, f"key-{writes_before_crash}"
        budget = Budget(writes_before_crash)
        dying = dataclasses.replace(backend, documents=Crashing(backend.documents, budget, after_write),
                                    queue=Crashing(backend.queue, budget, after_write))
        try:
            await push_datasets.push(dying, board.workspace_id, board.id, body, idempotency_key=key)
        except Crash:
            crash_points += 1
            await _assert_quota_matches_stored_rows(backend, board.id)
            answer, _ = await push_datasets.push(backend, board.workspace_id, board.id, body, idempotency_key=key)
            assert answer["accepted_rows"] == 3  # the retry (or its replay) accepted them, once
            sent += rows
            await _assert_quota_matches_stored_rows(backend, board.id)
            continue
        sent += rows
        break
    assert crash_points == 2  # the transaction and the consolidation request were both interrupted
    await consolidate(backend, board)
    assert Counter(row["input"] for row in await _rows(backend, board.id)) == Counter(sent)
    status = await push_datasets.status(backend, board.workspace_id, board.id)
    assert status["quota"]["used_today"] == len(sent) == status["consolidated_rows"]


async def _assert_quota_matches_stored_rows(deps: Deps, leaderboard_id: str) -> None:
    stored = sum(doc.data["row_count"] for doc in await deps.documents.query(
        Query(PushBatches.collection, where={"leaderboard_id": leaderboard_id})))
    assert (await push_quota.usage(deps, leaderboard_id)).today == stored
