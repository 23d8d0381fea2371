"""Driving a deleted leaderboard's purge by hand, the way the queue would, with the test's clock."""

from __future__ import annotations

from shared.domain.times import parse_iso
from shared.ports import Deps
from shared.services import leaderboard_purge
from shared.stores.leaderboards import DeletedLeaderboards

MAX_PASSES = 50


async def purge_until_gone(deps: Deps, clock, leaderboard_id: str) -> int:
    """Run the purge's newest pass again and again, moving the clock to when each is due; returns the passes run."""
    for passes in range(MAX_PASSES):
        board = await DeletedLeaderboards(deps.documents).get(leaderboard_id)
        if board is None:
            return passes
        due = parse_iso(board.purge_due_at or board.deleted_at)
        if due > clock.now():
            clock.advance(seconds=(due - clock.now()).total_seconds())
        await leaderboard_purge.purge_pass(deps, {"leaderboard_id": leaderboard_id, "step": board.purge_step})
    raise AssertionError(f"the purge of {leaderboard_id} did not finish in {MAX_PASSES} passes")
