"""Judge dry-run: score a few rows with a judge configuration before saving it; nothing is stored.

Rows come from the dataset (item ids, read with their pending edits) or inline. The answer
graded is, in this order: the row's `output`; else the candidate's answer when a
`candidate_id` is given (the leaderboard's prompt, called the way a run calls it, and
the row's `expected` is then the reference); else, for a dataset item, its `expected`,
which is what production answered, graded without a reference. Scoring is the run's own
code (run_rows.judge_answer, run_rows.evaluate_row).

The whole dry-run has one deadline (`judge_test_timeout_seconds`): rows still waiting then
are answered `timed_out` beside the ones that finished, so a slow judge costs the caller
at most that long and still shows what it did.
"""

from __future__ import annotations

import asyncio
import time
import uuid

from shared.domain.leaderboard import Candidate, Leaderboard
from shared.domain.scoring import DRY_RUN_MAX_ROWS
from shared.errors import InvalidInput
from shared.ports import Data, Deps, Endpoint
from shared.services import dataset_items
from shared.services.endpoints import EndpointUnavailable, candidate_endpoint, judge_endpoint
from shared.services.run_rows import evaluate_row, judge_answer
from shared.stores.leaderboards import Candidates, Leaderboards

MAX_ROWS = DRY_RUN_MAX_ROWS
JUDGE_FIELDS = ("judge_provider", "judge_model", "judge_url")


async def dry_run(deps: Deps, workspace_id: str, leaderboard_id: str, body: Data) -> Data:
    board = await Leaderboards(deps.documents).get_owned(leaderboard_id, workspace_id)
    rows = [*await _items(deps, workspace_id, board, body.get("item_ids") or []), *(body.get("rows") or [])]
    if len(rows) > MAX_ROWS:
        raise InvalidInput.field("rows", f"a dry-run scores at most {MAX_ROWS} rows (item_ids and rows together)")
    candidate = await _candidate(deps, board, body.get("candidate_id"))
    if candidate is None:
        rows = [_as_answered(row, position) for position, row in enumerate(rows)]
    settings = {**board.eval_metadata, **{name: body[name] for name in JUDGE_FIELDS if body.get(name) is not None}}
    try:
        judge = await judge_endpoint(deps, workspace_id, settings)
        answering = await candidate_endpoint(deps, candidate) if candidate else None
    except EndpointUnavailable as exc:
        raise InvalidInput.field("judge", str(exc)) from None
    results = await _score_all(deps, board, rows, judge, candidate, answering)
    scores = [r["score"] for r in results if r["score"] is not None]
    return {"leaderboard_id": board.id, "saved": False,
            "judge": {"provider": settings.get("judge_provider") or deps.settings.default_judge_provider,
                      "model": settings.get("judge_model") or deps.settings.default_judge_model},
            "results": results, "mean_score": sum(scores) / len(scores) if scores else None,
            "scored": sum(r["status"] == "scored" for r in results),
            "failed": sum(r["status"] == "failed" for r in results),
            "timed_out": sum(r["status"] == "timed_out" for r in results)}


async def _items(deps: Deps, workspace_id: str, board: Leaderboard, item_ids: list[str]) -> list[Data]:
    if len(item_ids) > MAX_ROWS:  # refused before reading any of them
        raise InvalidInput.field("item_ids", f"a dry-run scores at most {MAX_ROWS} rows")
    if item_ids and not board.is_push:
        raise InvalidInput.field("item_ids", "only a PUSH leaderboard has dataset items; send rows instead")
    rows = []
    for item_id in item_ids:
        item = await dataset_items.get_item(deps, workspace_id, board.id, item_id)
        rows.append({"id": item["id"], "input": item["input"], "expected": item["expected"], "item": True})
    return rows


def _as_answered(row: Data, position: int) -> Data:
    """Without a candidate, a row must carry its answer; an item's is its expected (production's answer)."""
    if row.get("item") and row.get("output") is None:
        if row.get("expected") is None:
            raise InvalidInput.field(f"item_ids[{position}]", "the item has no answer to grade; give a candidate_id")
        return {**row, "output": row["expected"], "expected": None}
    if row.get("output") is None:
        raise InvalidInput.field(f"rows[{position}].output", "needed when no candidate_id answers the row")
    return row


async def _candidate(deps: Deps, board: Leaderboard, candidate_id: str | None) -> Candidate | None:
    if candidate_id is None:
        return None
    try:
        uuid.UUID(candidate_id)  # a candidate id is a UUID; anything else names none (and is no document id)
    except ValueError:
        raise InvalidInput.field("candidate_id", "not a candidate of this leaderboard") from None
    found = await Candidates(deps.documents).get(candidate_id)
    if found is None or found.leaderboard_id != board.id:
        raise InvalidInput.field("candidate_id", "not a candidate of this leaderboard")
    return found


async def _score_all(deps: Deps, board: Leaderboard, rows: list[Data], judge: Endpoint,
                     candidate: Candidate | None, answering: Endpoint | None) -> list[Data]:
    limit = asyncio.Semaphore(deps.settings.candidate_concurrency)

    async def one(row: Data) -> Data:
        async with limit:
            return await _score(deps, board, row, judge, candidate, answering)

    tasks = [asyncio.ensure_future(one(row)) for row in rows]
    if tasks:
        await asyncio.wait(tasks, timeout=deps.settings.judge_test_timeout_seconds)
    results = []
    for row, task in zip(rows, tasks, strict=True):
        if task.done():
            results.append(task.result())
            continue
        task.cancel()
        results.append(_result(row, row.get("output"), "timed_out", error=(
            f"not finished within the dry-run's {deps.settings.judge_test_timeout_seconds:g} s")))
    await asyncio.gather(*tasks, return_exceptions=True)  # let the cancelled ones unwind
    return results


async def _score(deps: Deps, board: Leaderboard, row: Data, judge: Endpoint, candidate: Candidate | None,
                 answering: Endpoint | None) -> Data:
    started = time.monotonic()
    if row.get("output") is None and candidate is not None and answering is not None:
        answered = await evaluate_row(deps, "judge", board, candidate.id, answering, judge,
                                      {"id": row.get("id") or "", "input": row["input"], "expected": row.get("expected")})
        return _result(row, answered["output"], answered["status"], answered.get("score"),
                       answered.get("judge_reasoning"), answered.get("error"), started)
    verdict, _ = await judge_answer(deps, judge, row["input"], row["output"], row.get("expected"))
    return _result(row, row["output"], verdict.get("status", "scored"), verdict.get("score"),
                   verdict.get("judge_reasoning"), verdict.get("error"), started)


def _result(row: Data, output: str | None, status: str, score: float | None = None, reasoning: str | None = None,
            error: str | None = None, started: float | None = None) -> Data:
    return {"item_id": row.get("id") if row.get("item") else None, "input": row["input"],
            "expected": row.get("expected"), "output": output, "status": status, "score": score,
            "reasoning": reasoning, "error": error,
            "latency_ms": round((time.monotonic() - started) * 1000, 2) if started is not None else None}
