"""Resource family routes for runs: start, list, detail with progress, cancel, per-row results."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response, StreamingResponse

from shared.auth import scopes as S
from shared.domain.run import Run
from shared.http.routes import Call, Route
from shared.schemas.common import Page, PageQuery
from shared.schemas.runs import (
    AnnotationCreate,
    AnnotationPublic,
    AnnotationQuery,
    ImprovedRun,
    RunCreate,
    RunDetail,
    RunPublic,
)
from shared.services import annotations, auto_labels, runs

LB = "/api/leaderboards/{leaderboard_id}"


async def start_run(call: Call[RunCreate]) -> Run:
    return await runs.start_run(call.deps, call.workspace_id, call.path["leaderboard_id"], call.body.model_ids,
                                call.body.run_source)


async def improve_dataset(call: Call[RunCreate]) -> ImprovedRun:
    run, steps = await auto_labels.improve_and_run(call.deps, call.workspace_id, call.path["leaderboard_id"],
                                                   call.body.model_ids, call.body.run_source)
    return ImprovedRun(**dict(RunPublic.model_validate(run, from_attributes=True)), improvements=steps)


async def list_runs(call: Call[None]) -> dict[str, Any]:
    items, total = await runs.list_runs(call.deps, call.workspace_id, call.path["leaderboard_id"],
                                        call.query.limit, call.query.offset)
    return Page.of(items, total, call.query)


async def get_run(call: Call[None]) -> RunDetail:
    run = await runs.get_run(call.deps, call.workspace_id, call.path["leaderboard_id"], call.path["run_id"])
    return RunDetail(**dict(RunPublic.model_validate(run, from_attributes=True)),
                     progress=await runs.progress(call.deps, run))


async def cancel_run(call: Call[None]) -> Run:
    return await runs.cancel_run(call.deps, call.workspace_id, call.path["leaderboard_id"], call.path["run_id"])


async def run_results(call: Call[None]) -> Response:
    run = await runs.get_run(call.deps, call.workspace_id, call.path["leaderboard_id"], call.path["run_id"])
    return StreamingResponse(runs.result_stream(call.deps, run), media_type="application/x-ndjson")


async def list_annotations(call: Call[None]) -> dict[str, Any]:
    items, total = await annotations.list_annotations(
        call.deps, call.workspace_id, call.path["leaderboard_id"], call.path["run_id"], call.query.status,
        call.query.limit, call.query.offset)
    return Page.of(items, total, call.query)


async def annotate(call: Call[AnnotationCreate]) -> Any:
    return await annotations.annotate(call.deps, call.workspace_id, call.path["leaderboard_id"],
                                      call.path["run_id"], call.path["item_id"], call.body.score, call.body.comment)


ROUTES: list[Route] = [
    Route("POST", f"{LB}/run", start_run, "Start a run of the leaderboard's candidates (queued)",
          scopes=(S.LEADERBOARDS_RUN,), body=RunCreate, body_required=False, response=RunPublic, status=202,
          errors=(409,)),
    Route("POST", f"{LB}/improve-dataset", improve_dataset,
          "Consolidate, auto-label missing answers, drop empty and repeated rows, then run",
          scopes=(S.LEADERBOARDS_RUN,), body=RunCreate, body_required=False, response=ImprovedRun, status=202,
          errors=(409,)),
    Route("GET", f"{LB}/runs", list_runs, "List runs, newest first",
          scopes=(S.LEADERBOARDS_READ,), query=PageQuery, response=Page[RunPublic]),
    Route("GET", f"{LB}/runs/{{run_id}}", get_run, "A run with its ranking and progress",
          scopes=(S.LEADERBOARDS_READ,), response=RunDetail),
    Route("POST", f"{LB}/runs/{{run_id}}/cancel", cancel_run, "Cancel a run that has not finished",
          scopes=(S.LEADERBOARDS_RUN,), response=RunPublic, errors=(409,)),
    Route("GET", f"{LB}/runs/{{run_id}}/results", run_results, "Per-row results as JSONL",
          scopes=(S.LEADERBOARDS_READ,), media_type="application/x-ndjson"),
    Route("GET", f"{LB}/runs/{{run_id}}/annotations", list_annotations, "Human annotation queue of a run",
          scopes=(S.LEADERBOARDS_READ,), query=AnnotationQuery, response=Page[AnnotationPublic]),
    Route("POST", f"{LB}/runs/{{run_id}}/annotations/{{item_id}}", annotate, "Score one item (0 to 1)",
          scopes=(S.LEADERBOARDS_WRITE,), body=AnnotationCreate, response=AnnotationPublic, errors=(409,)),
]
