"""The quality_drop trigger: a run starts when the chosen model's live quality falls below its ranking.

Live quality is the mean online-evaluation score of the chosen model's traces over the last
`window_hours` (hour shards, shared/services/quality.py); the baseline is the model's
`mean_score` in the leaderboard's latest ranking. When at least `min_samples` scores are in
the window and the baseline exceeds the live mean by more than `drop`, a run of every
candidate starts (run source `schedule`, trigger `quality_drop`, the schedule's dataset
limit), and its winner becomes the chosen model as after any run (`ranking_winner`).

It is looked at each time the scoring task records a score of the chosen model, so a drop
is acted on within one scoring task of the sample that revealed it, without a periodic scan.
A look costs one leaderboard read (cached) and, when the trigger is on and the model has a
baseline, one query of at most window_hours x 4 shard documents.

It fires once: the firing is claimed by a version-checked write of `quality_drop_fired_at`
(of concurrent scoring tasks, one wins), and it does not fire again while the run it
started is unfinished, nor on samples from before the hour after it fired: the next firing
needs `min_samples` fresh scores. A paused or archived leaderboard, a model without a
baseline (chosen by hand, never ranked) and a leaderboard without candidates never fire.
"""

from __future__ import annotations

import logging

from shared.domain.leaderboard import Leaderboard
from shared.domain.run import Run
from shared.domain.times import iso
from shared.errors import ServiceUnavailable
from shared.ports import Deps
from shared.schemas.schedules import Schedule
from shared.services import quality, runs, schedules
from shared.stores.leaderboards import Leaderboards
from shared.stores.runs import Runs

TRIGGER = "quality_drop"
log = logging.getLogger(__name__)


class _AlreadyFired(Exception):
    """Another look fired the trigger between our read and our write."""


async def look(deps: Deps, leaderboard_id: str, candidate_id: str) -> Run | None:
    """Start the trigger's run if the model's live quality dropped; the run started, or None."""
    boards = Leaderboards(deps.documents)
    board = await boards.get(leaderboard_id)
    if board is None or board.deleted or board.schedule_on_hold or not board.schedule:
        return None
    trigger = Schedule.model_validate(board.schedule).triggers.quality_drop
    if not trigger.enabled or candidate_id != board.chosen_leaderboard_model_id:
        return None
    baseline = _baseline(board, candidate_id)
    if baseline is None or await _run_in_flight(deps, board):
        return None
    now = iso(deps.clock.now())
    since = quality.since_hour(now, trigger.window_hours, board.quality_drop_fired_at)
    count, live = await quality.window(deps, board.id, candidate_id, since)
    if live is None or count < trigger.min_samples or baseline - live <= trigger.drop:
        return None
    return await _fire(deps, board, now, f"live quality {live:.3f} over {count} samples since {since}:00Z is more "
                                         f"than {trigger.drop} below the ranking's {baseline:.3f}")


def _baseline(board: Leaderboard, candidate_id: str) -> float | None:
    for entry in (board.latest_ranking or {}).get("ranking") or []:
        if entry.get("candidate_id") == candidate_id:
            return entry.get("mean_score")
    return None


async def _run_in_flight(deps: Deps, board: Leaderboard) -> bool:
    if not board.quality_drop_run_id:
        return False
    run = await Runs(deps.documents).get(board.quality_drop_run_id)
    return run is not None and not run.finished


async def _fire(deps: Deps, board: Leaderboard, now: str, why: str) -> Run | None:
    boards, seen = Leaderboards(deps.documents), board.quality_drop_fired_at

    def claim(current: Leaderboard) -> None:
        if current.quality_drop_fired_at != seen:
            raise _AlreadyFired
        current.quality_drop_fired_at, current.quality_drop_run_id = now, None

    try:
        await boards.change(board.id, claim)
    except _AlreadyFired:
        return None
    try:
        run = await runs.start_run(deps, board.workspace_id, board.id, None, "schedule", trigger=TRIGGER,
                                   dataset_limit=schedules.dataset_limit(board.schedule))
    except ServiceUnavailable:
        # Give the firing back, so the next recorded score tries again.
        await boards.change(board.id, _unless_moved(now, seen, None))
        log.warning("quality_drop on %s deferred: the task queue is unavailable", board.id)
        return None
    except Exception as exc:  # noqa: BLE001 - a leaderboard that cannot run waits for fresh samples
        log.warning("quality_drop on %s could not start a run: %s", board.id, getattr(exc, "message", exc))
        return None
    await boards.change(board.id, _unless_moved(now, now, run.id))
    log.info("quality_drop on %s started run %s: %s", board.id, run.id, why)
    return run


def _unless_moved(fired_at: str, new_fired_at: str | None, run_id: str | None):
    def apply(current: Leaderboard) -> None:
        if current.quality_drop_fired_at == fired_at:
            current.quality_drop_fired_at, current.quality_drop_run_id = new_fired_at, run_id

    return apply
