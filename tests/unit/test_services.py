"""Services on the embedded adapters, without HTTP: what they store and what they refuse."""

from __future__ import annotations

import json

import pytest

from shared.adapters.local_queue import LocalQueue
from shared.errors import ConflictError, EntitlementRequired, InvalidInput, NotFoundError, Unauthenticated
from shared.ports import PermanentTaskError, Query
from shared.schemas.candidates import CandidateCreate, CandidatePublic
from shared.schemas.leaderboards import LeaderboardCreate, LeaderboardUpdate
from shared.schemas.models import ModelCreate
from shared.services import tasks
from shared.services.api_tokens import authenticate_api_token, create_api_token
from shared.services.candidates import add_candidate, remove_candidate
from shared.services.leaderboards import create_leaderboard, update_leaderboard
from shared.services.models import create_model
from shared.services.outbound import check_outbound_url
from shared.services.workspaces import create_workspace, require_entitlement
from shared.stores.leaderboards import Candidates, Leaderboards
from shared.stores.workspaces import ApiTokens
from tests.factories import get_leaderboard as leaderboard_body
from tests.factories import openrouter_candidate, own_model


async def _stored(deps, collection: str) -> str:
    return json.dumps([doc.data for doc in await deps.documents.query(Query(collection))])


async def test_api_tokens_are_stored_only_as_hashes_and_resolve_to_their_scopes(deps):
    workspace = await create_workspace(deps, "acme")
    token, record = await create_api_token(deps, workspace.id, "ci", ["leaderboards:read"])
    assert token.startswith("drgero_") and token not in await _stored(deps, ApiTokens.collection)
    principal = await authenticate_api_token(deps, token)
    assert (principal.workspace_id, principal.scopes) == (workspace.id, frozenset({"leaderboards:read"}))
    with pytest.raises(Unauthenticated):
        await authenticate_api_token(deps, token[:-1] + ("A" if token[-1] != "A" else "B"))
    await deps.documents.update(ApiTokens.collection, record.id, {"revoked_at": "2026-01-01T00:00:00Z"})
    with pytest.raises(Unauthenticated):
        await authenticate_api_token(deps, token)


async def test_tokens_need_known_scopes(deps):
    workspace = await create_workspace(deps, "acme")
    with pytest.raises(InvalidInput):
        await create_api_token(deps, workspace.id, "ci", ["leaderboards:fly"])
    with pytest.raises(InvalidInput):
        await create_api_token(deps, workspace.id, "ci", [])


async def test_workspace_names_are_unique_and_plans_gate_entitlements(deps):
    free = await create_workspace(deps, "small", "free")
    pro = await create_workspace(deps, "big")
    assert pro.plan == deps.settings.default_plan == "pro"
    with pytest.raises(InvalidInput):
        await create_workspace(deps, " small ")
    with pytest.raises(EntitlementRequired):
        await require_entitlement(deps, free.id, "schedules")
    await require_entitlement(deps, pro.id, "schedules")


async def test_candidate_tokens_are_sealed_at_rest_and_redacted_on_read(deps):
    workspace = await create_workspace(deps, "acme")
    board = await create_leaderboard(deps, workspace.id, LeaderboardCreate.model_validate(leaderboard_body()))
    secret = "sk-or-v1-0123456789abcdef0123456789abcdef"
    body = CandidateCreate.model_validate(openrouter_candidate(token=secret))
    candidate = await add_candidate(deps, workspace.id, board.id, body)
    assert secret not in await _stored(deps, Candidates.collection)
    assert deps.sealer.open(candidate.token_sealed) == secret
    shown = CandidatePublic.model_validate(candidate, from_attributes=True).model_dump()
    assert shown["has_token"] and secret not in json.dumps(shown)
    with pytest.raises(ConflictError):
        await add_candidate(deps, workspace.id, board.id, body)


async def test_removing_the_chosen_candidate_clears_the_choice(deps):
    workspace = await create_workspace(deps, "acme")
    board = await create_leaderboard(deps, workspace.id, LeaderboardCreate.model_validate(leaderboard_body()))
    candidate = await add_candidate(deps, workspace.id, board.id,
                                    CandidateCreate.model_validate(openrouter_candidate()))
    choose = LeaderboardUpdate.model_validate({"chosen_leaderboard_model_id": candidate.id})
    await update_leaderboard(deps, workspace.id, board.id, choose)
    await remove_candidate(deps, workspace.id, board.id, candidate.id)
    assert (await Leaderboards(deps.documents).get_owned(board.id, workspace.id)).chosen_leaderboard_model_id is None


async def test_own_model_candidates_must_name_a_model_of_the_same_workspace(deps):
    mine = await create_workspace(deps, "mine")
    theirs = await create_workspace(deps, "theirs")
    their_model = await create_model(deps, theirs.id, ModelCreate.model_validate(own_model()))
    board = await create_leaderboard(deps, mine.id, LeaderboardCreate.model_validate(leaderboard_body()))
    body = CandidateCreate.model_validate({"name": "borrowed", "platform": "Dr.Gero", "model_id": their_model.id})
    with pytest.raises(InvalidInput):
        await add_candidate(deps, mine.id, board.id, body)
    with pytest.raises(NotFoundError):
        await Leaderboards(deps.documents).get_owned(board.id, theirs.id)


async def test_the_task_runner_dispatches_registered_kinds_through_the_local_queue(deps, monkeypatch):
    seen: list[dict] = []

    async def record(task_deps, payload):
        assert task_deps is deps
        seen.append(payload)

    monkeypatch.setitem(tasks.KINDS, "record", tasks.TaskKind(record, {}))
    run = tasks.runner(deps)
    with pytest.raises(PermanentTaskError):
        await run("no_such_kind", {})
    assert isinstance(deps.queue, LocalQueue)
    deps.queue.start(run)
    try:
        await deps.queue.enqueue("record", {"n": 1}, name="record-1")
        await deps.queue.enqueue("no_such_kind", {}, name="unknown-1")
        await deps.queue.drain()
    finally:
        await deps.queue.stop()
    assert seen == [{"n": 1}]
    assert deps.queue.state("unknown-1") == ("dead", 1)


async def test_outbound_urls_are_judged_by_the_addresses_their_names_resolve_to():
    async def resolver(host: str) -> list[str]:
        return {"models.internal.example": ["10.0.0.5"], "api.example.com": ["93.184.216.34"]}[host]

    await check_outbound_url("https://api.example.com/v1", False, resolver)
    with pytest.raises(InvalidInput):
        await check_outbound_url("https://models.internal.example/v1", False, resolver)
    with pytest.raises(InvalidInput):
        await check_outbound_url("http://127.0.0.1:8080/v1", False, resolver)
    await check_outbound_url("https://models.internal.example/v1", True, resolver)  # the development setting
