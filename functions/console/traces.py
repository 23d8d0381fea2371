"""Traces of a leaderboard's production calls: a filtered list, a latency histogram, and one trace."""

from __future__ import annotations

from pydantic import ValidationError
from starlette.responses import Response

from functions.console import charts
from functions.console.web import render
from shared.errors import InvalidInput
from shared.http.dispatch import validation_details
from shared.http.routes import Call
from shared.schemas.candidates import CandidatePublic
from shared.schemas.inference import TracePublic, TraceQuery
from shared.services import candidates, inference
from shared.stores.leaderboards import Leaderboards
from shared.stores.traces import Traces

PAGE = 50


async def traces_page(call: Call[None]) -> Response:
    lid = call.path["leaderboard_id"]
    board = await Leaderboards(call.deps.documents).get_owned(lid, call.workspace_id)
    given = {name: value for name, value in call.request.query_params.items() if value.strip()}
    try:
        query = TraceQuery.model_validate(given)
    except ValidationError as exc:
        raise InvalidInput("Invalid filters.", details=validation_details(exc)) from None
    filters = {"since": query.since, "until": query.until, "status": query.status, "candidate_id": query.model}
    items, total = await inference.list_traces(call.deps, call.workspace_id, lid, filters, PAGE, query.offset)
    shown = [TracePublic.model_validate(t, from_attributes=True) for t in items]
    models = [CandidatePublic.model_validate(c, from_attributes=True)
              for c in await candidates.list_candidates(call.deps, call.workspace_id, lid)]
    latencies = [t.latency_ms for t in shown if t.latency_ms is not None]
    return render(call, "traces.html", lid=lid, board_name=board.name, traces=shown, total=total, query=query,
                  given=given, models=models, histogram=charts.histogram(latencies, "ms"), page=PAGE)


async def trace_page(call: Call[None]) -> Response:
    lid = call.path["leaderboard_id"]
    await Leaderboards(call.deps.documents).get_owned(lid, call.workspace_id)
    trace = await Traces(call.deps.documents).get_owned(call.path["trace_id"], call.workspace_id)
    if trace.leaderboard_id != lid:
        raise Traces(call.deps.documents).not_found(trace.id)
    return render(call, "trace.html", lid=lid, trace=TracePublic.model_validate(trace, from_attributes=True))
