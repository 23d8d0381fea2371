"""Scheduled runs: when each leaderboard is next due, and run-due, which starts due runs exactly once.

Triggers that fire: `cron`, and `new_data`, checked at its `check_cadence` (DAILY 06:00
UTC, WEEKLY Monday 06:00, MONTHLY the 1st at 06:00) and due when at least
`every_new_events` rows were accepted since the last scheduled look. Each leaderboard
stores the next time of each trigger (`schedule_due`) and the earliest
(`schedule_next_due_at`), so run-due reads the due ones with one range query instead of
scanning every leaderboard. A run starts only after its due slot (leaderboard, trigger,
due time) is created in a create-only document, so overlapping run-due calls never start
the same run twice. A paused or archived leaderboard's slots pass without a run (its due
times still move on, so it never crowds the due query), and a deleted one is never found.

`model_version` is checked at its `cadence` and fires when any candidate's upstream
version changed since the last look: for OpenRouter candidates the catalog entry's
`created` time (GET {openrouter_base_url}/models), for Dr.Gero own models their fine-tune
`version`. Custom and HuggingFace endpoints publish no version, so they never trigger it.

`quality_drop` has no due time: it is looked at whenever online evaluation records a score
of the chosen model (shared/services/quality_loop.py), so run-due never sees it.
"""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from cronsim import CronSim

from shared.domain.leaderboard import Leaderboard
from shared.domain.times import iso
from shared.errors import NotFoundError, ServiceUnavailable
from shared.ports import AlreadyExists, Data, Deps, Order, Range
from shared.schemas.schedules import Schedule
from shared.services import push_quota, runs
from shared.services.catalog import openrouter_catalog
from shared.stores.leaderboards import Candidates, Leaderboards
from shared.stores.models import OwnModels

SLOTS = "schedule_slots"
DUE_PAGE = 200


CADENCES = {"DAILY": "0 6 * * *", "WEEKLY": "0 6 * * 1", "MONTHLY": "0 6 1 * *"}


def due_times(schedule: dict[str, Any] | None, after: datetime) -> dict[str, str]:
    """The next time each enabled trigger is due after `after` (ISO UTC)."""
    if not schedule:
        return {}
    triggers = Schedule.model_validate(schedule).triggers
    due = {}
    if triggers.cron.enabled:
        zone = ZoneInfo(triggers.cron.timezone) if triggers.cron.timezone else ZoneInfo("UTC")
        due["cron"] = iso(next(CronSim(triggers.cron.effective_expression, after.astimezone(zone))))
    if triggers.new_data.enabled:
        due["new_data"] = iso(next(CronSim(CADENCES[triggers.new_data.check_cadence], after)))
    if triggers.model_version.enabled:
        due["model_version"] = iso(next(CronSim(CADENCES[triggers.model_version.cadence], after)))
    return due


async def model_versions(deps: Deps, board: Leaderboard) -> dict[str, str]:
    """candidate id -> its upstream version, for the candidates that publish one."""
    versions: dict[str, str] = {}
    catalog: dict[str, Any] | None = None
    for candidate in await Candidates(deps.documents).of(board):
        if candidate.platform == "OpenRouter":
            if catalog is None:
                catalog = await openrouter_catalog(deps, max_age=0)  # a version check wants today's catalog
            entry = catalog.get(candidate.model_url or "")
            versions[candidate.id] = str(entry.get("created")) if entry else "absent"
        elif candidate.platform == "Dr.Gero":
            model = await OwnModels(deps.documents).get(candidate.model_id or "")
            versions[candidate.id] = str(model.version) if model else "absent"
    return versions


def due_fields(schedule: dict[str, Any] | None, after: datetime) -> Data:
    """What a leaderboard stores so run-due can find it: each trigger's due time and the earliest."""
    due = due_times(schedule, after)
    return {"schedule_due": due, "schedule_next_due_at": min(due.values()) if due else None}


def dataset_limit(schedule: dict[str, Any] | None) -> Data | None:
    """The limit a scheduled run applies to its rows (None for mode ALL)."""
    if not schedule:
        return None
    dataset = Schedule.model_validate(schedule).dataset
    return dataset.limit.model_dump() if dataset.mode == "LIMIT" else None


async def run_due(deps: Deps) -> list[Data]:
    """Start every run whose cron slot has come; returns what was started and why."""
    now = deps.clock.now()
    boards = Leaderboards(deps.documents)
    started: list[Data] = []
    due = await boards.find({}, order=(Order("schedule_next_due_at"),), limit=DUE_PAGE,
                            range=Range("schedule_next_due_at", high=iso(now)))
    for board in due:
        changes = due_fields(board.schedule, now)
        for trigger, slot in sorted(board.schedule_due.items()):
            if slot > iso(now):
                continue
            entry: Data = {"leaderboard_id": board.id, "trigger": trigger, "due_at": slot}
            slot_id = f"{board.id}.{trigger}.{slot}"
            try:
                await deps.documents.create(SLOTS, slot_id, {**entry, "workspace_id": board.workspace_id})
            except AlreadyExists:
                continue  # another run-due call took this slot
            try:
                started.append(await _fire(deps, board, trigger, entry, changes))
            except ServiceUnavailable as exc:
                # The task queue is down: give the slot back and keep the trigger due, so the
                # next call starts this run instead of it being lost until the next slot.
                await deps.documents.delete(SLOTS, slot_id)
                changes["schedule_due"][trigger] = slot
                changes["schedule_next_due_at"] = min(changes["schedule_due"].values())
                started.append({**entry, "run_id": None, "status": "deferred", "reason": exc.message})
        with contextlib.suppress(NotFoundError):  # deleted since it was found due
            await boards.change(board.id, _looked(board.schedule, changes))
    return started


def _looked(schedule: dict[str, Any] | None, changes: Data):
    """Record the next due times and what the triggers saw, unless the schedule changed meanwhile
    (the PATCH that changed it set due times of its own)."""

    def apply(board: Leaderboard) -> None:
        if board.schedule == schedule:
            for name, value in changes.items():
                setattr(board, name, value)

    return apply


async def _fire(deps: Deps, board: Leaderboard, trigger: str, entry: Data, changes: Data) -> Data:
    """Start the trigger's run, or say why not; ServiceUnavailable when the run could not be queued.

    What the trigger looked at (versions, rows seen) goes into `changes` only once the run
    started or was skipped for good, so a deferred look is taken again.
    """
    if board.schedule_on_hold:  # paused or archived: the slot passes without a run, the next one is due as usual
        return {**entry, "run_id": None, "status": "skipped", "reason": board.schedule_on_hold}
    looked: Data = {}
    if trigger == "model_version":
        try:
            versions = await model_versions(deps, board)
        except Exception as exc:  # noqa: BLE001 - a catalog outage skips this look, the next one retries
            return {**entry, "run_id": None, "status": "skipped", "reason": f"model catalog unavailable: {exc}"}
        changes["schedule_model_versions"] = versions
        if board.schedule_model_versions is None or versions == board.schedule_model_versions:
            return {**entry, "run_id": None, "status": "skipped", "reason": "no candidate has a new version"}
        looked["schedule_model_versions"] = changes.pop("schedule_model_versions")
    if trigger == "new_data":
        accepted = await push_quota.accepted_total(deps, board.id)
        fresh = accepted - board.schedule_rows_seen
        wanted = Schedule.model_validate(board.schedule).triggers.new_data.every_new_events
        if fresh < wanted:
            return {**entry, "run_id": None, "status": "skipped",
                    "reason": f"{fresh} new rows since the last look; the trigger waits for {wanted}"}
        looked["schedule_rows_seen"] = accepted
    try:
        run = await runs.start_run(deps, board.workspace_id, board.id, None, "schedule", trigger=trigger,
                              dataset_limit=dataset_limit(board.schedule))
    except ServiceUnavailable:
        raise
    except Exception as exc:  # noqa: BLE001 - a leaderboard that cannot run must not stop the others
        changes.update(looked)
        return {**entry, "run_id": None, "status": "skipped", "reason": getattr(exc, "message", str(exc))}
    changes.update(looked)
    return {**entry, "run_id": run.id, "status": "started"}
