"""Scheduled runs: when each leaderboard is next due, and run-due, which starts due runs exactly once.

Only the cron trigger fires so far. Each leaderboard stores `schedule_next_due_at`, so
run-due reads the due ones with one range query instead of scanning every leaderboard.
A run starts only after its due slot (leaderboard, trigger, due time) is created in a
create-only document, so two overlapping run-due calls never start the same run twice.
"""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from cronsim import CronSim

from shared.bootstrap import Deps
from shared.ports import AlreadyExists, Data, NotFound, Order, Query, Range

SLOTS = "schedule_slots"
DUE_PAGE = 200


def next_due_at(schedule: dict[str, Any] | None, after: datetime) -> str | None:
    """The next time the cron trigger fires after `after` (ISO UTC), or None when it is off."""
    from shared.schemas.schedules import Schedule
    from shared.services.records import iso

    if not schedule:
        return None
    cron = Schedule.model_validate(schedule).triggers.cron
    if not cron.enabled:
        return None
    zone = ZoneInfo(cron.timezone) if cron.timezone else ZoneInfo("UTC")
    return iso(next(CronSim(cron.effective_expression, after.astimezone(zone))))


def dataset_limit(schedule: dict[str, Any] | None) -> Data | None:
    """The limit a scheduled run applies to its rows (None for mode ALL)."""
    from shared.schemas.schedules import Schedule

    if not schedule:
        return None
    dataset = Schedule.model_validate(schedule).dataset
    return dataset.limit.model_dump() if dataset.mode == "LIMIT" else None


async def run_due(deps: Deps) -> list[Data]:
    """Start every run whose cron slot has come; returns what was started and why."""
    from shared.services.records import LEADERBOARDS, iso
    from shared.services.runs import start_run

    now = deps.clock.now()
    started: list[Data] = []
    due = await deps.documents.query(Query(LEADERBOARDS, order_by=(Order("schedule_next_due_at"),), limit=DUE_PAGE,
                                           range=Range("schedule_next_due_at", high=iso(now))))
    for doc in due:
        board = doc.data
        slot = board.get("schedule_next_due_at")
        if not slot:
            continue
        entry: Data = {"leaderboard_id": board["id"], "trigger": "cron", "due_at": slot}
        try:
            await deps.documents.create(SLOTS, f"{board['id']}.cron.{slot}", {**entry, "workspace_id": board["workspace_id"]})
        except AlreadyExists:
            continue  # another run-due call took this slot
        try:
            run = await start_run(deps, board["workspace_id"], board["id"], None, "schedule", trigger="cron",
                                  dataset_limit=dataset_limit(board.get("schedule")))
            entry.update(run_id=run["id"], status="started")
        except Exception as exc:  # noqa: BLE001 - a leaderboard that cannot run must not stop the others
            entry.update(run_id=None, status="skipped", reason=getattr(exc, "message", str(exc)))
        with contextlib.suppress(NotFound):  # deleted since it was found due
            await deps.documents.update(LEADERBOARDS, board["id"], {
                "schedule_next_due_at": next_due_at(board.get("schedule"), now)})
        started.append(entry)
    return started
