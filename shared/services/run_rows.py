"""Evaluating one chunk of a run: call the candidate on each row, score the answer, keep the reason of a failure.

A row whose model call fails after the client's retries is recorded as failed with the
reason; it never blocks the run. Scoring follows the run's eval type: `exact` compares
with the expected answer, `judge` asks the judge model (retrying garbage twice), `human`
leaves the row for a person.
"""

from __future__ import annotations

import asyncio
from typing import Any

from shared.domain import scoring
from shared.domain.leaderboard import Candidate, Leaderboard, fill_prompt
from shared.domain.run import Run
from shared.ports import Data, Deps, Endpoint, ProviderError
from shared.services.endpoints import EndpointUnavailable, candidate_endpoint, judge_endpoint

JUDGE_ATTEMPTS = 3


async def evaluate(deps: Deps, run: Run, board: Leaderboard, candidate: Candidate | None, rows: list[Data]
                   ) -> list[Data]:
    """One result per row, in order."""
    if candidate is None:
        return [failed(row, "The candidate was removed from the leaderboard.") for row in rows]
    try:
        endpoint = await candidate_endpoint(deps, candidate)
        judge = await judge_endpoint(deps, run.workspace_id, board.eval_metadata) if run.eval_type == "judge" else None
    except EndpointUnavailable as exc:
        return [failed(row, str(exc), candidate.id) for row in rows]
    limit = asyncio.Semaphore(deps.settings.candidate_concurrency)

    async def one(row: Data) -> Data:
        async with limit:
            return await evaluate_row(deps, run.eval_type, board, candidate.id, endpoint, judge, row)

    return list(await asyncio.gather(*(one(row) for row in rows)))


def failed(row: Data, reason: str, candidate_id: str | None = None) -> Data:
    return {"row_id": row["id"], "candidate_id": candidate_id, "status": "failed", "error": reason,
            "input": row["input"], "expected": row.get("expected"), "output": None, "score": None,
            "latency_ms": None, "tokens": None, "cost_usd": None}


async def evaluate_row(deps: Deps, eval_type: str, board: Leaderboard, candidate_id: str, endpoint: Endpoint,
                       judge: Endpoint | None, row: Data) -> Data:
    """The candidate's answer to one row (the leaderboard's prompt filled with it), scored by `eval_type`."""
    messages = [{"role": "user", "content": fill_prompt(board.prompt, row)}]
    try:
        completion = await deps.chat.complete(endpoint, messages, max_tokens=deps.settings.run_max_tokens)
    except ProviderError as exc:
        return failed(row, f"{type(exc).__name__}: {exc.message}", candidate_id)
    result = {"row_id": row["id"], "candidate_id": candidate_id, "status": "scored", "error": None,
              "input": row["input"], "expected": row.get("expected"), "output": completion.text, "score": None,
              "latency_ms": round(completion.latency_ms, 2), "tokens": completion.usage.total_tokens,
              "cost_usd": completion.usage.cost_usd}
    if eval_type == "exact":
        result["score"] = scoring.exact_score(completion.text, row.get("expected"), board.eval_metadata.get("exact"))
        if result["score"] is None:
            result["status"] = "unscored"
    elif eval_type == "judge":
        result.update(await _judge(deps, judge, row, completion.text))
    else:
        result["status"] = "pending_human"
    return result


async def _judge(deps: Deps, judge: Endpoint | None, row: Data, answer: str) -> dict[str, Any]:
    assert judge is not None
    verdict, _ = await judge_answer(deps, judge, row["input"], answer, row.get("expected"))
    return verdict


async def judge_answer(deps: Deps, judge: Endpoint, question: str, answer: str, reference: str | None
                       ) -> tuple[dict[str, Any], float]:
    """({score, judge_reasoning} or {status: failed, error}, what the judge's replies cost in USD)."""
    messages = scoring.judge_messages(question, answer, reference)
    last_error, cost = "the judge's replies held no score", 0.0
    for _ in range(JUDGE_ATTEMPTS):
        try:
            reply = await deps.chat.complete(judge, messages, temperature=0, response_format=scoring.JUDGE_SCHEMA,
                                             max_tokens=deps.settings.judge_max_tokens)
        except ProviderError as exc:
            last_error = f"judge {type(exc).__name__}: {exc.message}"
            break
        cost += reply.usage.cost_usd or 0.0
        verdict = scoring.parse_verdict(reply.text)
        if verdict is not None:
            return {"score": verdict.score, "judge_reasoning": verdict.reasoning}, cost
    return {"status": "failed", "error": last_error}, cost
