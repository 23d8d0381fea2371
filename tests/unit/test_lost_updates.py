"""A PATCH and a run's ranking write racing on one leaderboard: neither erases the other, on either backend.

The slow writer is held just before its version-checked save, after it read the leaderboard;
the other writer completes meanwhile. Saved blindly, the slow one would overwrite what the
other wrote; checked against the version it read, it reads again and applies its change to
the newer leaderboard.
"""

from __future__ import annotations

import asyncio
import contextvars
import dataclasses

import pytest

from shared.domain.run import Run
from shared.schemas.leaderboards import LeaderboardCreate, LeaderboardUpdate
from shared.services import run_tasks
from shared.services.leaderboards import create_leaderboard, update_leaderboard
from shared.services.workspaces import create_workspace
from shared.stores.leaderboards import Leaderboards
from shared.stores.runs import Runs
from tests.contract.gcp_backends import gcp_documents
from tests.faults import HoldingFirstSave

SLOW = contextvars.ContextVar("slow", default=False)


@pytest.fixture(params=["embedded", pytest.param("gcp", marks=pytest.mark.emulator)])
def backend(request, deps):
    if request.param == "embedded":
        return deps
    return dataclasses.replace(deps, documents=gcp_documents(request.getfixturevalue("firestore_emulator")))


@pytest.mark.parametrize("slow", ["patch", "ranking"])
async def test_a_patch_and_a_ranking_write_at_once_both_land(backend, slow):
    workspace = await create_workspace(backend, "acme")
    board = await create_leaderboard(backend, workspace.id, LeaderboardCreate.model_validate(
        {"name": "b", "system_prompt": "{input}", "dataset_type": "PUSH"}))
    run = await Runs(backend.documents).create(Run(
        id=backend.ids.new_id(), workspace_id=workspace.id, leaderboard_id=board.id, status="running",
        eval_type="exact", candidate_ids=[], candidates=[], rows=0, chunks=0, created_at="2026-01-01T00:00:00Z"))
    deps = dataclasses.replace(backend, documents=HoldingFirstSave(backend.documents, lambda _: SLOW.get()))

    async def patch() -> None:
        SLOW.set(slow == "patch")
        await update_leaderboard(deps, workspace.id, board.id, LeaderboardUpdate.model_validate(
            {"description": "edited by hand"}))

    async def ranking() -> None:
        SLOW.set(slow == "ranking")
        await run_tasks.finalize(deps, {"run_id": run.id})

    slow_one, fast_one = (patch, ranking) if slow == "patch" else (ranking, patch)
    held = asyncio.create_task(slow_one())
    await asyncio.wait_for(deps.documents.held.wait(), 30)  # it read the leaderboard and is about to save
    await fast_one()
    deps.documents.release.set()
    await asyncio.wait_for(held, 60)

    final = await Leaderboards(backend.documents).get(board.id)
    assert final.description == "edited by hand"
    assert final.latest_ranking is not None and final.latest_ranking["run_id"] == run.id
