"""Human evaluation: the annotation queue one item at a time, and a pairwise mode.

Pairwise verdicts feed the ranking through the same annotations the queue scores: picking
A over B on a row scores A's item 1 and B's item 0, a tie scores both 0.5. A human run's
ranking is the mean of these scores per candidate, with the same paired bootstrap intervals
as any run, so a candidate's mean is its win rate over the comparisons it took part in (ties
counting half). Items of a row with no second pending candidate are scored one at a time.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from functions.console.web import form, redirect, render, validated
from shared.errors import InvalidInput
from shared.http.routes import Call
from shared.schemas.runs import AnnotationCreate, AnnotationPublic
from shared.services import annotations, runs

RUBRIC = ((0.0, "Wrong"), (0.25, "Poor"), (0.5, "Partly right"), (0.75, "Good"), (1.0, "Perfect"))
WINDOW = 200  # pending items looked at to find a row two candidates still wait on


async def _counts(call: Call[Any], lid: str, rid: str) -> tuple[int, int]:
    _, pending = await annotations.list_annotations(call.deps, call.workspace_id, lid, rid, "pending", 1, 0)
    _, total = await annotations.list_annotations(call.deps, call.workspace_id, lid, rid, None, 1, 0)
    return total - pending, total


async def queue_page(call: Call[None]) -> Response:
    lid, rid = call.path["leaderboard_id"], call.path["run_id"]
    run = await runs.get_run(call.deps, call.workspace_id, lid, rid)
    pairwise = call.request.query_params.get("mode") == "pairwise"
    pending, _ = await annotations.list_annotations(call.deps, call.workspace_id, lid, rid, "pending",
                                                    WINDOW if pairwise else 1, 0)
    items = _pair(pending) if pairwise else pending[:1]
    done, total = await _counts(call, lid, rid)
    names = {c["id"]: c["name"] for c in run.candidates}
    return render(call, "annotate.html", lid=lid, run_id=rid, run_status=run.status, done=done, total=total,
                  items=[AnnotationPublic.model_validate(i, from_attributes=True) for i in items], names=names,
                  rubric=RUBRIC, pairwise=pairwise and len(items) == 2, asked_pairwise=pairwise)


def _pair(pending: list[Any]) -> list[Any]:
    by_row: dict[str, list[Any]] = {}
    for item in pending:
        by_row.setdefault(item.row_id, []).append(item)
        if len(by_row[item.row_id]) == 2:
            return by_row[item.row_id]
    return pending[:1]


async def score(call: Call[None]) -> Response:
    lid, rid = call.path["leaderboard_id"], call.path["run_id"]
    fields = await form(call)
    body, errors = validated(AnnotationCreate, {"score": fields.get("score", ""),
                                                **({"comment": fields["comment"]} if fields.get("comment") else {})})
    if body is None:
        raise _refused(errors)
    await annotations.annotate(call.deps, call.workspace_id, lid, rid, call.path["item_id"], body.score, body.comment)
    return redirect(f"/leaderboards/{lid}/runs/{rid}/annotate")


async def verdict(call: Call[None]) -> Response:
    """A pairwise verdict: `a`, `b` or `tie` between the items `a_id` and `b_id` of one row."""
    lid, rid = call.path["leaderboard_id"], call.path["run_id"]
    fields = await form(call)
    points = {"a": (1.0, 0.0), "b": (0.0, 1.0), "tie": (0.5, 0.5)}.get(fields.get("verdict", ""))
    if points is None or not fields.get("a_id") or not fields.get("b_id"):
        raise _refused([{"field": "verdict", "message": "pick A, B or tie"}])
    comment = fields.get("comment") or None
    for item_id, points_for in zip((fields["a_id"], fields["b_id"]), points, strict=True):
        await annotations.annotate(call.deps, call.workspace_id, lid, rid, item_id, points_for, comment)
    return redirect(f"/leaderboards/{lid}/runs/{rid}/annotate?mode=pairwise")


def _refused(errors: list[dict[str, str]]) -> InvalidInput:
    return InvalidInput("; ".join(f"{e['field']}: {e['message']}" for e in errors), details=errors)
