"""Leaderboards: create, read, update, delete, and the detail view."""

from __future__ import annotations

from typing import Any

from shared.ports import Deps
from shared.domain.leaderboard import JUDGE_FIELDS, check_leaderboard, effective_prompt, fold_judge_settings
from shared.errors import InvalidInput
from shared.ports import Data
from shared.schemas.leaderboards import LeaderboardCreate, LeaderboardUpdate
from shared.services import candidates, push_quota, schedules
from shared.services.records import CANDIDATES, LEADERBOARDS, RUNS, get_owned, now_iso, page
from shared.services.workspaces import require_entitlement

RECENT_RUNS = 10


async def create_leaderboard(deps: Deps, workspace_id: str, body: LeaderboardCreate) -> Data:
    """Validate and store a new leaderboard; schedules need the schedules entitlement."""
    fields = body.model_dump()
    if body.schedule is not None:
        fields["schedule"] = body.schedule.model_dump(mode="json", exclude_unset=True)
    if fields.get("schedule") is not None:
        await require_entitlement(deps, workspace_id, "schedules")
    # Only judge fields the caller sent may override what eval_metadata says.
    judge = {name: fields.pop(name) for name in JUDGE_FIELDS if name in fields}
    sent = {name: value for name, value in judge.items() if name in body.model_fields_set}
    eval_metadata = fold_judge_settings(sent, fields.get("eval_metadata") or {})
    now = now_iso(deps)
    fields.update(schedules.due_fields(fields.get("schedule"), deps.clock.now()))
    data = {
        **fields, "eval_metadata": eval_metadata, "id": deps.ids.new_id(), "workspace_id": workspace_id,
        "chosen_leaderboard_model_id": None, "created_at": now, "updated_at": now,
    }
    check_leaderboard(data, deps.settings.huggingface_base_url)
    await deps.documents.create(LEADERBOARDS, data["id"], data)
    return data


async def get_leaderboard(deps: Deps, workspace_id: str, leaderboard_id: str) -> Data:
    return await get_owned(deps, LEADERBOARDS, leaderboard_id, workspace_id, "Leaderboard")


async def list_leaderboards(deps: Deps, workspace_id: str, limit: int, offset: int) -> tuple[list[Data], int]:
    return await page(deps, LEADERBOARDS, {"workspace_id": workspace_id}, limit, offset)


async def update_leaderboard(deps: Deps, workspace_id: str, leaderboard_id: str, body: LeaderboardUpdate) -> Data:
    """Apply the given fields, re-validate the whole leaderboard, and store it."""
    current = await get_leaderboard(deps, workspace_id, leaderboard_id)
    changes = body.given()
    if "schedule" in changes:
        await require_entitlement(deps, workspace_id, "schedules")
        schedule = changes["schedule"]
        # Stored as sent (validated): defaults are filled where it is read, not written into it.
        changes["schedule"] = schedule.model_dump(mode="json", exclude_unset=True) if schedule is not None else None
        changes.update(schedules.due_fields(changes["schedule"], deps.clock.now()))
        # new_data counts rows accepted from now on, not the ones already there
        changes["schedule_rows_seen"] = (await push_quota.usage(deps, leaderboard_id)).accepted_total
    if changes.get("chosen_leaderboard_model_id"):
        await _check_candidate_of(deps, workspace_id, leaderboard_id, changes["chosen_leaderboard_model_id"])
    eval_metadata = changes.pop("eval_metadata", None)
    if eval_metadata is None:
        eval_metadata = current["eval_metadata"]
    merged = {**current, **changes}
    merged["eval_metadata"] = fold_judge_settings(merged, eval_metadata)
    merged["updated_at"] = now_iso(deps)
    check_leaderboard(merged, deps.settings.huggingface_base_url)
    await deps.documents.set(LEADERBOARDS, leaderboard_id, merged)
    return merged


async def _check_candidate_of(deps: Deps, workspace_id: str, leaderboard_id: str, candidate_id: str) -> None:
    doc = await deps.documents.get(CANDIDATES, candidate_id)
    if doc is None or doc.data["workspace_id"] != workspace_id or doc.data["leaderboard_id"] != leaderboard_id:
        raise InvalidInput.field("chosen_leaderboard_model_id", "is not a candidate model of this leaderboard")


async def delete_leaderboard(deps: Deps, workspace_id: str, leaderboard_id: str) -> None:
    """Delete a leaderboard and its candidates; the free plan may not."""
    await get_leaderboard(deps, workspace_id, leaderboard_id)
    await require_entitlement(deps, workspace_id, "delete_leaderboard")
    for candidate in await candidates.list_candidates(deps, workspace_id, leaderboard_id):
        await deps.documents.delete(CANDIDATES, candidate["id"])
    await deps.documents.delete(LEADERBOARDS, leaderboard_id)


async def leaderboard_detail(deps: Deps, workspace_id: str, leaderboard_id: str) -> dict[str, Any]:
    """The leaderboard with its challenge, candidate models and recent runs."""
    data = await get_leaderboard(deps, workspace_id, leaderboard_id)
    models = await candidates.list_candidates(deps, workspace_id, leaderboard_id)
    runs, _ = await page(deps, RUNS, {"leaderboard_id": leaderboard_id}, RECENT_RUNS, 0)
    return {
        "leaderboard": data,
        "challenge": challenge_of(data),
        "models": [candidates.public(c) for c in models],
        "runs": runs,
        "ranking": data.get("latest_ranking"),
    }


def challenge_of(data: Data) -> dict[str, Any]:
    return {
        "prompt": effective_prompt(data),
        "dataset": {
            "type": data["dataset_type"], "url": data.get("dataset_url"),
            "metadata": data.get("dataset_metadata"), "auto_labels": data.get("dataset_auto_labels"),
        },
        "eval": {"type": data["eval_type"], **data["eval_metadata"]},
    }
