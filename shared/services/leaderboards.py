"""Leaderboards: create, read, update, delete, and the detail view."""

from __future__ import annotations

from typing import Any

from shared.domain.leaderboard import JUDGE_FIELDS, Leaderboard, fold_judge_settings
from shared.domain.times import iso
from shared.errors import InvalidInput
from shared.ports import Deps
from shared.schemas.leaderboards import LeaderboardCreate, LeaderboardUpdate
from shared.services import leaderboard_purge, push_quota, schedules
from shared.services.local_models import check_local_judges
from shared.services.workspaces import require_entitlement
from shared.stores.leaderboards import Candidates, Leaderboards
from shared.stores.runs import Runs

RECENT_RUNS = 10


async def create_leaderboard(deps: Deps, workspace_id: str, body: LeaderboardCreate) -> Leaderboard:
    """Validate and store a new leaderboard; schedules need the schedules entitlement."""
    fields = body.model_dump(exclude={"schedule", "eval_metadata", "online_eval", *JUDGE_FIELDS})
    if body.online_eval is not None:
        # A new leaderboard has no candidates yet, so no model condition can name one of them.
        _check_online_models(body.online_eval.conditions.models, set())
        fields["online_eval"] = body.online_eval.model_dump(mode="json")
    schedule = body.schedule.model_dump(mode="json", exclude_unset=True) if body.schedule is not None else None
    if schedule is not None:
        await require_entitlement(deps, workspace_id, "schedules")
    # Only judge fields the caller sent may override what eval_metadata says.
    sent = {name: getattr(body, name) for name in JUDGE_FIELDS if name in body.model_fields_set}
    now = deps.clock.now()
    board = Leaderboard(**fields, **schedules.due_fields(schedule, now), schedule=schedule,
                        eval_metadata=fold_judge_settings(sent, body.eval_metadata or {}),
                        id=deps.ids.new_id(), workspace_id=workspace_id, created_at=iso(now), updated_at=iso(now))
    check_local_judges(deps, board.eval_metadata)
    return await Leaderboards(deps.documents).create(board.check(deps.settings.huggingface_base_url))


async def list_leaderboards(deps: Deps, workspace_id: str, limit: int, offset: int) -> tuple[list[Leaderboard], int]:
    return await Leaderboards(deps.documents).page({"workspace_id": workspace_id}, limit, offset)


async def update_leaderboard(deps: Deps, workspace_id: str, leaderboard_id: str,
                             body: LeaderboardUpdate) -> Leaderboard:
    """Apply the given fields and re-validate the whole leaderboard, as of its latest stored version."""
    boards = Leaderboards(deps.documents)
    sent = set(body.model_fields_set)
    # 404 before anything else looks at the id, and 409 before anything is checked on an archived one
    (await boards.get_owned(leaderboard_id, workspace_id)).require_editable(sent)
    changes = body.given()
    if "schedule" in changes:
        schedule = changes["schedule"]
        if schedule is not None:  # clearing one is always allowed: a lapsed plan must be able to stop its runs
            await require_entitlement(deps, workspace_id, "schedules")
        # Stored as sent (validated): defaults are filled where it is read, not written into it.
        changes["schedule"] = schedule.model_dump(mode="json", exclude_unset=True) if schedule is not None else None
        changes.update(schedules.due_fields(changes["schedule"], deps.clock.now()))
        # new_data counts rows accepted from now on, not the ones already there
        changes["schedule_rows_seen"] = await push_quota.accepted_total(deps, leaderboard_id)
    if changes.get("online_eval") is not None:
        online = changes["online_eval"]
        if online.conditions.models is not None:
            candidates = await Candidates(deps.documents).of(await boards.get_owned(leaderboard_id, workspace_id))
            _check_online_models(online.conditions.models, {c.id for c in candidates})
        changes["online_eval"] = online.model_dump(mode="json")
    if changes.get("chosen_leaderboard_model_id"):
        await _check_candidate_of(deps, workspace_id, leaderboard_id, changes["chosen_leaderboard_model_id"])
    judge = {name: changes.pop(name) for name in JUDGE_FIELDS if name in changes}
    eval_metadata = changes.pop("eval_metadata", None)
    updated_at = iso(deps.clock.now())

    def apply(board: Leaderboard) -> None:
        board.require_editable(sent)  # again on the version saved: it may have been archived meanwhile
        for name, value in changes.items():
            setattr(board, name, value)
        board.eval_metadata = fold_judge_settings(dict(judge), board.eval_metadata if eval_metadata is None else eval_metadata)
        board.updated_at = updated_at
        board.check(deps.settings.huggingface_base_url)
        if judge or eval_metadata is not None:
            check_local_judges(deps, board.eval_metadata)

    return await boards.change(leaderboard_id, apply, workspace_id=workspace_id)


def _check_online_models(models: list[str] | None, candidate_ids: set[str]) -> None:
    unknown = [model for model in models or [] if model not in candidate_ids]
    if unknown:
        raise InvalidInput.field("online_eval.conditions.models",
                                 f"not candidate models of this leaderboard: {', '.join(unknown)}")


async def _check_candidate_of(deps: Deps, workspace_id: str, leaderboard_id: str, candidate_id: str) -> None:
    found = await Candidates(deps.documents).get(candidate_id)
    if found is None or found.workspace_id != workspace_id or found.leaderboard_id != leaderboard_id:
        raise InvalidInput.field("chosen_leaderboard_model_id", "is not a candidate model of this leaderboard")


async def delete_leaderboard(deps: Deps, workspace_id: str, leaderboard_id: str) -> None:
    """Hide the leaderboard at once and queue the purge of everything it owned; the free plan may not.

    The mark is one version-checked write, so a change racing it either lands first or
    finds the leaderboard gone; see leaderboard_purge for what happens next.
    """
    boards = Leaderboards(deps.documents)
    await boards.get_owned(leaderboard_id, workspace_id)
    await require_entitlement(deps, workspace_id, "delete_leaderboard")
    deleted_at = iso(deps.clock.now())
    await boards.change(leaderboard_id, lambda board: board.mark_deleted(deleted_at), workspace_id=workspace_id)
    await leaderboard_purge.queue_purge(deps, leaderboard_id)


async def leaderboard_detail(deps: Deps, workspace_id: str, leaderboard_id: str) -> dict[str, Any]:
    """The leaderboard with its challenge, candidate models and recent runs."""
    board = await Leaderboards(deps.documents).get_owned(leaderboard_id, workspace_id)
    runs, _ = await Runs(deps.documents).page({"leaderboard_id": leaderboard_id}, RECENT_RUNS, 0)
    return {"leaderboard": board, "challenge": challenge_of(board),
            "models": await Candidates(deps.documents).of(board), "runs": runs, "ranking": board.latest_ranking}


def challenge_of(board: Leaderboard) -> dict[str, Any]:
    return {
        "prompt": board.prompt,
        "dataset": {"type": board.dataset_type, "url": board.dataset_url, "metadata": board.dataset_metadata,
                    "auto_labels": board.dataset_auto_labels},
        "eval": {"type": board.eval_type, **board.eval_metadata},
    }
