"""Runtime v1 family under /v1/leaderboard/: inference, OpenAI-style chat completions, traces, and the push datasets."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import orjson
from starlette.responses import JSONResponse, Response, StreamingResponse

from functions.runtime_dataset_items import ROUTES as ITEM_ROUTES
from functions.runtime_datasets import BOARD
from functions.runtime_datasets import ROUTES as DATASET_ROUTES
from shared.auth import scopes as S
from shared.bootstrap import READ_MOSTLY
from shared.domain.trace import Trace
from shared.http.routes import Answer, Call, Family, Route
from shared.schemas.common import Page
from shared.schemas.inference import (
    ChatCompletion,
    ChatCompletionsRequest,
    InferenceFailed,
    InferenceRequest,
    InferenceResponse,
    OpenAIError,
    TracePublic,
    TraceQuery,
)
from shared.schemas.online_eval import Quality, QualityQuery
from shared.services import inference, quality, spend
from shared.stores.leaderboards import Leaderboards


def _budget_headers(budget: spend.Budget) -> dict[str, str]:
    if budget.limit_usd is None:
        return {}
    return {"X-DrGero-Budget-State": budget.state, "X-DrGero-Budget-Remaining-Usd": f"{budget.remaining_usd:.6f}"}


def _inference_headers(trace: Trace, budget: spend.Budget) -> dict[str, str]:
    headers = {"X-DrGero-Trace-Id": trace.id, "X-DrGero-Fallback": "true" if trace.fallback else "false",
               **_budget_headers(budget)}
    if trace.candidate_id:
        headers["X-DrGero-Model"] = trace.candidate_id
    return headers


def _budget_exceeded(exc: inference.BudgetExceeded) -> Response:
    return JSONResponse({"error": exc.code, "message": exc.message}, status_code=402,
                        headers=_budget_headers(exc.budget))


async def _server_sent(trace: Trace, chunks: AsyncIterator[dict[str, Any]]) -> AsyncIterator[bytes]:
    """The chunks as OpenAI's server-sent events: `data: <json>` each, `data: [DONE]` after a whole answer."""
    async for chunk in chunks:
        yield b"data: " + orjson.dumps(chunk) + b"\n\n"
    if trace.status == "ok":
        yield b"data: [DONE]\n\n"


async def _traces_jsonl(pages: AsyncIterator[list[Trace]], closing: dict[str, Any] | None = None
                        ) -> AsyncIterator[bytes]:
    """Each trace as its public schema has it, one JSON object per line; then `closing`, when given."""
    async for page in pages:
        yield b"".join(orjson.dumps(TracePublic.model_validate(trace, from_attributes=True).model_dump(mode="json"),
                                    option=orjson.OPT_APPEND_NEWLINE) for trace in page)
    if closing is not None:
        yield orjson.dumps(closing, option=orjson.OPT_APPEND_NEWLINE)


# The trace and spend are saved before any answer leaves: Cloud Run throttles the CPU once
# the response is sent, so nothing the budget depends on may wait until after it.
async def run_inference(call: Call[InferenceRequest]) -> Response:
    body = call.body.model_dump(exclude_none=True)
    try:
        answer, trace, budget = await inference.infer(call.deps, call.workspace_id, call.path["leaderboard_id"], body)
    except inference.BudgetExceeded as exc:
        return _budget_exceeded(exc)
    except inference.ProviderFailed as failed:
        await inference.save_trace(call.deps, failed.trace)
        return JSONResponse({"error": failed.code, "message": failed.message, "trace_id": failed.trace.id},
                            status_code=502, headers=_inference_headers(failed.trace, failed.budget))
    await inference.save_trace(call.deps, trace)
    return Answer(answer, _inference_headers(trace, budget))


async def chat_completions(call: Call[ChatCompletionsRequest]) -> Response:
    body = call.body.model_dump(exclude_none=True)
    leaderboard_id = call.path["leaderboard_id"]
    try:
        if body.pop("stream", False):
            trace, budget, chunks = await inference.stream_completion(call.deps, call.workspace_id, leaderboard_id,
                                                                      body)
            return StreamingResponse(_server_sent(trace, chunks), media_type="text/event-stream",
                                     headers={**_inference_headers(trace, budget), "Cache-Control": "no-cache"})
        answer, trace, budget = await inference.infer(call.deps, call.workspace_id, leaderboard_id, body)
    except inference.BudgetExceeded as exc:
        return _budget_exceeded(exc)
    except inference.ProviderFailed as failed:
        await inference.save_trace(call.deps, failed.trace)
        return JSONResponse({"error": {"message": failed.message, "type": failed.code, "code": failed.code},
                             "trace_id": failed.trace.id}, status_code=502,
                            headers=_inference_headers(failed.trace, failed.budget))
    await inference.save_trace(call.deps, trace)
    return Answer(inference.openai_completion(answer, trace, int(time.time())), _inference_headers(trace, budget))


async def list_traces(call: Call[None]) -> Any:
    query: TraceQuery = call.query
    filters = {"since": query.since, "until": query.until, "status": query.status, "candidate_id": query.model}
    leaderboard_id = call.path["leaderboard_id"]
    if query.format != "json":
        board = await Leaderboards(call.deps.documents).get_owned(leaderboard_id, call.workspace_id)
        # Read before the stream starts: an error then is still an error answer, not a cut stream.
        closing = None if query.quality_days is None else {"quality": Quality.model_validate(
            await quality.series(call.deps, board, query.quality_days, query.model)).model_dump(mode="json")}
        return StreamingResponse(_traces_jsonl(inference.every_trace(call.deps, call.workspace_id, leaderboard_id,
                                                                     filters), closing),
                                 media_type="application/x-ndjson")
    items, total = await inference.list_traces(call.deps, call.workspace_id, leaderboard_id, filters,
                                               query.limit, query.offset)
    return Page.of(items, total, query)


async def live_quality(call: Call[None]) -> dict[str, Any]:
    query: QualityQuery = call.query
    board = await Leaderboards(call.deps.documents).get_owned(call.path["leaderboard_id"], call.workspace_id)
    return await quality.series(call.deps, board, query.days, query.model)


ROUTES: list[Route] = [
    *DATASET_ROUTES,
    *ITEM_ROUTES,
    Route("POST", f"{BOARD}/inference", run_inference,
          "Answer with the chosen model (falling back along the latest ranking); traced",
          scopes=(S.INFERENCE,), body=InferenceRequest, response=InferenceResponse, errors=(402, 409, 502),
          error_bodies=((502, InferenceFailed),)),
    Route("POST", f"{BOARD}/chat/completions", chat_completions,
          "OpenAI-compatible chat completions through the leaderboard (stream: true for server-sent events)",
          scopes=(S.INFERENCE,), body=ChatCompletionsRequest, response=ChatCompletion, errors=(402, 409, 502),
          error_bodies=((502, OpenAIError),), alt_media_types=("text/event-stream",)),
    Route("GET", f"{BOARD}/traces", list_traces, "Traces, newest first: paged JSON or streamed JSONL",
          scopes=(S.TRACES_READ,), query=TraceQuery, response=Page[TracePublic], alt_media_types=("application/x-ndjson",)),
    Route("GET", f"{BOARD}/quality", live_quality,
          "Daily quality of production traffic per answering model, from online evaluation (mean, 95% interval, "
          "count)", scopes=(S.TRACES_READ,), query=QualityQuery, response=Quality),
]
FAMILY = Family("runtime_api", "Runtime v1: inference, traces and push datasets; API token or push token.", ROUTES,
                cached_reads=READ_MOSTLY)
