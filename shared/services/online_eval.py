"""Online evaluation: sampled production traces are scored by a queued task, never on the request path.

When a trace is saved (still inside the request, before the answer leaves), the leaderboard's
`online_eval` conditions and the deterministic sampler decide; a sampled trace queues one
scoring task named after it (`online-eval-<trace id>`), so saving it twice queues it once.
That adds nothing for an unsampled trace and one enqueue for a sampled one; a queue that is
down loses that one sample (logged), never the answer.

The task picks the evaluator:
- the trace carries an expected answer (`expected` in the inference body, or a string
  `metadata.expected`): exact match, normalized as the leaderboard's `eval_metadata.exact` says;
- otherwise the judge: `online_eval.judge`, else the leaderboard's judge settings, else the
  deployment's default judge, asked exactly as runs ask it (shared/services/run_rows.py);
- a trace without an answer (an error, a stream the client left, when `conditions.status`
  lets them in) scores 0, as a failed row does in a ranking.

Judge calls cost money: their reported cost is added to the leaderboard's monthly spend (the
counters inference uses), and once the budget is exceeded traces are recorded as `skipped`
with reason `budget_exceeded` and no judge is asked. Exact scoring is free and goes on.

The verdict and the quality shards are written in one transaction that first checks the
trace is not already scored (shared/services/quality.py), so a redelivered task records
nothing twice; two deliveries running at the same moment may both ask the judge, and only
one verdict is kept. Each recorded score of the chosen model then lets the quality_drop
trigger look (shared/services/quality_loop.py).
"""

from __future__ import annotations

import logging

from shared.domain import online_eval, scoring
from shared.domain.leaderboard import Leaderboard
from shared.domain.times import iso
from shared.domain.trace import Trace
from shared.ports import Data, Deps, Unavailable
from shared.schemas.online_eval import OnlineJudge
from shared.services import quality, quality_loop, spend
from shared.services.endpoints import EndpointUnavailable, judge_endpoint
from shared.services.run_rows import judge_answer
from shared.stores.leaderboards import Leaderboards
from shared.stores.traces import Traces

SCORE_TASK = "online-eval-score"
log = logging.getLogger(__name__)


async def queue_scoring(deps: Deps, board: Leaderboard, trace: Trace) -> bool:
    """Queue the trace's scoring when the leaderboard's setting selects it; whether it was queued."""
    if not online_eval.selects(board.online_eval, trace):
        return False
    try:
        return await deps.queue.enqueue(SCORE_TASK, {"trace_id": trace.id}, name=f"online-eval-{trace.id}")
    except Unavailable:
        log.warning("online evaluation lost trace %s: the task queue is unavailable", trace.id)
        return False


async def score_task(deps: Deps, payload: Data) -> None:
    trace = await Traces(deps.documents).get(payload["trace_id"])
    if trace is None or (trace.online_eval or {}).get("status") in quality.FINAL:
        return
    board = await Leaderboards(deps.documents).get(trace.leaderboard_id)
    if board is None or board.deleted:
        return
    verdict = await _verdict(deps, board, trace)
    recorded = await quality.record(deps, trace.id, verdict)
    if recorded is not None and verdict["status"] == "scored" and recorded.judged_model:
        await quality_loop.look(deps, board.id, recorded.judged_model)


async def _verdict(deps: Deps, board: Leaderboard, trace: Trace) -> Data:
    now = iso(deps.clock.now())
    if trace.status != "ok" or trace.output is None:
        return {"status": "scored", "score": 0.0, "evaluator": "none", "judged_at": now,
                "reasoning": f"the call has no answer (status {trace.status})"}
    if trace.expected is not None:
        score = scoring.exact_score(trace.output, trace.expected, board.eval_metadata.get("exact"))
        return {"status": "scored", "score": score, "evaluator": "exact", "judged_at": now,
                "reasoning": "matches the expected answer" if score else "differs from the expected answer"}
    budget = await spend.budget(deps, board)
    if budget.state == "exceeded":
        return {"status": "skipped", "reason": "budget_exceeded", "judged_at": now,
                "detail": f"spent ${budget.spent_usd:.4f} of the ${budget.limit_usd:.4f} monthly budget"}
    settings = board.eval_metadata
    if (board.online_eval or {}).get("judge"):
        settings = OnlineJudge.model_validate(board.online_eval["judge"]).eval_metadata(settings)
    try:
        judge = await judge_endpoint(deps, trace.workspace_id, settings)
    except EndpointUnavailable as exc:
        return {"status": "skipped", "reason": "judge_unavailable", "detail": str(exc), "judged_at": now}
    result, cost = await judge_answer(deps, judge, trace.input, trace.output, None)
    if cost:
        await spend.add(deps, board.workspace_id, board.id, cost)
    if "score" not in result:
        return {"status": "failed", "reason": "judge_failed", "detail": result["error"], "judged_at": now,
                "evaluator": "judge", "judge_model": judge.model}
    return {"status": "scored", "score": result["score"], "reasoning": result["judge_reasoning"],
            "evaluator": "judge", "judge_model": judge.model, "judged_at": now, "cost_usd": cost or None}
