"""Runtime v1 family: push datasets (and, later, inference and traces) under /v1/leaderboard/."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import orjson
from starlette.responses import JSONResponse, Response, StreamingResponse

from shared.auth import scopes as S
from shared.domain.trace import Trace
from shared.http.authenticate import PUSH_TOKEN_HEADER
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
from shared.schemas.push import (
    ConsolidationResult,
    PushAccepted,
    PushBody,
    PushStatus,
    PushTokenCreate,
    PushTokenCreated,
    PushTokensRevoked,
)
from shared.schemas.runs import AutoLabels
from shared.services import auto_labels, consolidation, inference, push_datasets, push_tokens, spend
from shared.stores.leaderboards import Leaderboards

BOARD = "/v1/leaderboard/{leaderboard_id}"


def _base_url(call: Call[Any]) -> str:
    return call.deps.settings.public_base_url.rstrip("/") or str(call.request.base_url).rstrip("/")


async def push_rows(call: Call[PushBody]) -> Answer:
    body, replayed = await push_datasets.push(
        call.deps, call.workspace_id, call.path["leaderboard_id"], call.body.root,
        call.request.headers.get("idempotency-key"))
    return Answer(body, {"Idempotent-Replayed": "true"} if replayed else {})


async def dataset_status(call: Call[None]) -> dict[str, Any]:
    return await push_datasets.status(call.deps, call.workspace_id, call.path["leaderboard_id"])


async def download_dataset(call: Call[None]) -> Response:
    leaderboard_id = call.path["leaderboard_id"]
    await push_datasets.push_board(call.deps, call.workspace_id, leaderboard_id)
    pointer, chunks = await consolidation.read_dataset(call.deps, leaderboard_id)
    etag = f'"v{pointer.version if pointer else 0}"'
    headers = {"ETag": etag, "Cache-Control": "no-cache"}
    if call.request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    if chunks is None:
        return Response(b"", media_type="application/x-ndjson", headers=headers)
    return StreamingResponse(chunks, media_type="application/x-ndjson", headers=headers)


async def consolidate_dataset(call: Call[None]) -> dict[str, Any]:
    outcome = await push_datasets.consolidate_now(call.deps, call.workspace_id, call.path["leaderboard_id"])
    return outcome.as_json()


async def create_push_token(call: Call[PushTokenCreate]) -> dict[str, Any]:
    leaderboard_id = call.path["leaderboard_id"]
    await push_datasets.push_board(call.deps, call.workspace_id, leaderboard_id)
    token, record = await push_tokens.create_push_token(call.deps, call.workspace_id, leaderboard_id, call.body.name)
    base = _base_url(call)
    return {"id": record.id, "name": record.name, "token": token, "leaderboard_id": leaderboard_id,
            "webhook_url": f"{base}/v1/leaderboard/{leaderboard_id}/dataset/push",
            "dataset_url": f"{base}/v1/leaderboard/{leaderboard_id}/dataset",
            "header": PUSH_TOKEN_HEADER, "created_at": record.created_at}


async def revoke_push_tokens(call: Call[None]) -> dict[str, Any]:
    leaderboard_id = call.path["leaderboard_id"]
    await push_datasets.push_board(call.deps, call.workspace_id, leaderboard_id)
    return {"leaderboard_id": leaderboard_id,
            "revoked": await push_tokens.revoke_push_tokens(call.deps, leaderboard_id)}


async def generate_auto_labels(call: Call[None]) -> dict[str, Any]:
    board = await Leaderboards(call.deps.documents).get_owned(call.path["leaderboard_id"], call.workspace_id)
    return await auto_labels.generate(call.deps, board)


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


async def _traces_jsonl(pages: AsyncIterator[list[Trace]]) -> AsyncIterator[bytes]:
    """Each trace as its public schema has it, one JSON object per line."""
    async for page in pages:
        yield b"".join(orjson.dumps(TracePublic.model_validate(trace, from_attributes=True).model_dump(mode="json"),
                                    option=orjson.OPT_APPEND_NEWLINE) for trace in page)


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
        await Leaderboards(call.deps.documents).get_owned(leaderboard_id, call.workspace_id)
        return StreamingResponse(_traces_jsonl(inference.every_trace(call.deps, call.workspace_id, leaderboard_id,
                                                                     filters)),
                                 media_type="application/x-ndjson")
    items, total = await inference.list_traces(call.deps, call.workspace_id, leaderboard_id, filters,
                                               query.limit, query.offset)
    return Page.of(items, total, query)


def push_route(path: str) -> Route:
    """The push endpoint; the resource family serves the same handler under /api/leaderboards."""
    return Route("POST", path, push_rows, "Push rows into a PUSH dataset (API token or hpd_ push token)",
                 auth="push", scopes=(S.LEADERBOARDS_WRITE,), body=PushBody, response=PushAccepted,
                 status=202, errors=(409,), max_body_bytes=push_datasets.MAX_PUSH_BODY_BYTES)


ROUTES: list[Route] = [
    push_route(f"{BOARD}/dataset/push"),
    Route("GET", f"{BOARD}/dataset/status", dataset_status, "Push dataset status: pending rows, versions, quota",
          scopes=(S.LEADERBOARDS_READ,), response=PushStatus, errors=(409,)),
    Route("GET", f"{BOARD}/dataset", download_dataset, "Download the consolidated dataset as JSONL (streamed)",
          scopes=(S.LEADERBOARDS_READ,), media_type="application/x-ndjson", errors=(409,)),
    Route("POST", f"{BOARD}/dataset/consolidate", consolidate_dataset, "Consolidate pending rows now",
          scopes=(S.LEADERBOARDS_WRITE,), response=ConsolidationResult, errors=(409,)),
    Route("POST", f"{BOARD}/dataset/token", create_push_token, "Create a push token (shown once)",
          scopes=(S.LEADERBOARDS_WRITE,), body=PushTokenCreate, body_required=False,
          response=PushTokenCreated, status=201, errors=(409,)),
    Route("POST", f"{BOARD}/dataset/auto-labels", generate_auto_labels,
          "Label rows without an expected answer with the labeler model (stored beside the dataset version)",
          scopes=(S.LEADERBOARDS_WRITE,), response=AutoLabels, errors=(409,)),
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
    Route("DELETE", f"{BOARD}/dataset/tokens", revoke_push_tokens, "Revoke every push token of the leaderboard",
          scopes=(S.LEADERBOARDS_WRITE,), response=PushTokensRevoked, errors=(409,)),
]

FAMILY = Family("runtime_api", "Runtime v1: inference, traces and push datasets; API token or push token.", ROUTES)
