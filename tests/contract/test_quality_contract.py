"""Online evaluation's quality shards on both backends: recorded once per trace, read back as a series and a window.

Runs on SQLite and on the Firestore emulator: the shard writes are transactions and the
reads are range queries, both of which each backend implements its own way.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import pytest

from shared.bootstrap import build
from shared.domain.leaderboard import Candidate, Leaderboard
from shared.domain.ranking import CandidateRows, rank
from shared.domain.trace import Trace
from shared.services import quality
from shared.stores.leaderboards import Candidates, Leaderboards
from shared.stores.traces import Traces
from tests.conftest import SteppedClock, make_settings

TODAY = datetime(2026, 3, 14, 15, 30, tzinfo=UTC)


@pytest.fixture
async def deps(documents, tmp_path):
    built = build(make_settings(tmp_path))
    built.documents, built.clock = documents, SteppedClock(TODAY)
    yield built
    await built.chat.aclose()


async def _board(deps) -> tuple[Leaderboard, str, str]:
    board_id, first, second = (str(uuid.uuid4()) for _ in range(3))
    for candidate_id, name in ((first, "first"), (second, "second")):
        await Candidates(deps.documents).create(Candidate(id=candidate_id, workspace_id="w", leaderboard_id=board_id,
                                                          name=name, platform="Custom", created_at="x"))
    board = Leaderboard(id=board_id, workspace_id="w", name="b", created_at="x", updated_at="x",
                        chosen_leaderboard_model_id=first,
                        latest_ranking={"run_id": "r", "at": "x", "ranking": [{"candidate_id": first,
                                                                               "mean_score": 0.9}]})
    return await Leaderboards(deps.documents).create(board), first, second


async def _scored(deps, board: Leaderboard, candidate_id: str, created_at: str, score: float) -> str:
    trace = Trace(id=str(uuid.uuid4()), workspace_id="w", leaderboard_id=board.id, input="q", status="ok",
                  output="a", candidate_id=candidate_id, created_at=created_at)
    await Traces(deps.documents).create(trace)
    recorded = await quality.record(deps, trace.id, {"status": "scored", "score": score, "evaluator": "exact"})
    assert recorded is not None and recorded.online_eval["score"] == score
    return trace.id


def _ranked_interval(scores: list[float]) -> list[float]:
    """The ranking's interval of these scores, resampled in ascending order as the series does."""
    [entry] = rank([CandidateRows("x", scores={str(n): s for n, s in enumerate(sorted(scores))})])
    return entry["ci95"]


async def test_the_series_holds_each_days_count_mean_and_interval(deps):
    board, first, second = await _board(deps)
    today = [1.0, 0.0, 1.0, 1.0, 0.75]
    for n, score in enumerate(today):
        await _scored(deps, board, first, f"2026-03-14T0{n}:10:00.000000Z", score)
    for score in (0.5, 0.25):
        await _scored(deps, board, first, "2026-03-13T23:59:59.000000Z", score)
    await _scored(deps, board, first, "2026-03-12T12:00:00.000000Z", 1.0)  # outside two days
    await _scored(deps, board, second, "2026-03-14T01:00:00.000000Z", 0.2)

    answer = await quality.series(deps, board, 2, None)
    assert (answer["since"], answer["until"]) == ("2026-03-13", "2026-03-14")
    series = {s["candidate_id"]: s for s in answer["series"]}
    assert series[first]["name"] == "first" and series[first]["chosen"] and series[first]["baseline"] == 0.9
    yesterday_point, today_point = series[first]["points"]
    assert (yesterday_point["day"], yesterday_point["count"]) == ("2026-03-13", 2)
    assert yesterday_point["mean"] == pytest.approx(0.375)
    assert yesterday_point["ci95"] == _ranked_interval([0.5, 0.25])
    assert (today_point["day"], today_point["count"]) == ("2026-03-14", 5)
    assert today_point["mean"] == pytest.approx(sum(today) / 5)
    assert today_point["ci95"] == _ranked_interval(today)
    assert series[second]["points"] == [{"day": "2026-03-14", "count": 1, "mean": pytest.approx(0.2),
                                         "ci95": [0.2, 0.2]}]
    only = await quality.series(deps, board, 1, second)
    assert [s["candidate_id"] for s in only["series"]] == [second]


async def test_a_trace_is_counted_once_however_often_it_is_recorded(deps):
    board, first, _ = await _board(deps)
    trace_id = await _scored(deps, board, first, "2026-03-14T10:00:00.000000Z", 1.0)
    again = await asyncio.gather(*(quality.record(deps, trace_id, {"status": "scored", "score": 0.0})
                                   for _ in range(3)))
    assert again == [None, None, None]
    [series] = (await quality.series(deps, board, 1, None))["series"]
    assert [(p["count"], p["mean"]) for p in series["points"]] == [(1, 1.0)]
    skipped = Trace(id=str(uuid.uuid4()), workspace_id="w", leaderboard_id=board.id, input="q", status="ok",
                    candidate_id=first, created_at="2026-03-14T10:00:00.000000Z")
    await Traces(deps.documents).create(skipped)
    assert await quality.record(deps, skipped.id, {"status": "skipped", "reason": "budget_exceeded"}) is not None
    assert (await quality.window(deps, board.id, first, "2026-03-14T00"))[0] == 1  # skipped traces add nothing


async def test_the_window_counts_whole_hours_from_its_start(deps):
    board, first, second = await _board(deps)
    for stamp, score in (("2026-03-14T09:59:59.000000Z", 1.0), ("2026-03-14T10:00:00.000000Z", 0.5),
                         ("2026-03-14T15:00:00.000000Z", 0.0)):
        await _scored(deps, board, first, stamp, score)
    await _scored(deps, board, second, "2026-03-14T12:00:00.000000Z", 1.0)
    count, mean = await quality.window(deps, board.id, first, "2026-03-14T10")
    assert (count, mean) == (2, pytest.approx(0.25))
    assert await quality.window(deps, board.id, first, "2026-03-14T16") == (0, None)
