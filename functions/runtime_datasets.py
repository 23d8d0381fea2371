"""Runtime family routes for PUSH datasets: the webhook, status, download, consolidation, push tokens, labels."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response, StreamingResponse

from shared.auth import scopes as S
from shared.http.authenticate import PUSH_TOKEN_HEADER
from shared.http.routes import Answer, Call, Route
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
from shared.services import auto_labels, consolidation, push_datasets, push_tokens
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
    return await auto_labels.generate(call.deps, board.require_unarchived("labelling rows"))


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
    Route("DELETE", f"{BOARD}/dataset/tokens", revoke_push_tokens, "Revoke every push token of the leaderboard",
          scopes=(S.LEADERBOARDS_WRITE,), response=PushTokensRevoked, errors=(409,)),
]
