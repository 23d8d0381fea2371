"""A PUSH leaderboard's dataset page: pending rows, quota bars, the current version, pushes and push tokens.

Rows pushed from the page go through the same push service as the webhook (normalized,
deduplicated, counted against the quotas), so the bars move exactly as they do for an app.
A push token's value is on the page that created it and nowhere else.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response, StreamingResponse

from functions.console.web import form, redirect, render
from shared.errors import InvalidInput
from shared.http.authenticate import PUSH_TOKEN_HEADER
from shared.http.routes import Call
from shared.services import consolidation, push_datasets, push_tokens

MAX_ROWS = 1_000


def _rows(text: str) -> list[Any]:
    """One row per line: a JSON object, or plain text taken as the row's input."""
    rows: list[Any] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = orjson.loads(line)
        except orjson.JSONDecodeError:
            value = line.strip()
        rows.append(value if isinstance(value, dict) else {"input": str(value) if not isinstance(value, str) else value})
        if len(rows) > MAX_ROWS:
            raise InvalidInput.field("rows", f"line {number}: at most {MAX_ROWS} rows per push from the console")
    if not rows:
        raise InvalidInput.field("rows", "write at least one row")
    return rows


async def page(call: Call[Any], pushed: dict[str, Any] | None = None, token: dict[str, Any] | None = None,
               status: int = 200) -> Response:
    lid = call.path["leaderboard_id"]
    board = await push_datasets.push_board(call.deps, call.workspace_id, lid)
    state = await push_datasets.status(call.deps, call.workspace_id, lid)
    return render(call, "push.html", status, lid=lid, board_name=board.name, state=state, pushed=pushed, token=token)


async def dataset_page(call: Call[None]) -> Response:
    return await page(call)


async def push_rows(call: Call[None]) -> Response:
    fields = await form(call)
    body, _ = await push_datasets.push(call.deps, call.workspace_id, call.path["leaderboard_id"],
                                       {"rows": _rows(fields.get("rows", ""))})
    return await page(call, pushed=body)


async def consolidate(call: Call[None]) -> Response:
    lid = call.path["leaderboard_id"]
    await push_datasets.consolidate_now(call.deps, call.workspace_id, lid)
    return redirect(f"/leaderboards/{lid}/dataset")


async def create_token(call: Call[None]) -> Response:
    lid, fields = call.path["leaderboard_id"], await form(call)
    await push_datasets.push_board(call.deps, call.workspace_id, lid)
    name = (fields.get("name") or "push token").strip()[:200] or "push token"
    value, record = await push_tokens.create_push_token(call.deps, call.workspace_id, lid, name)
    base = call.deps.settings.public_base_url.rstrip("/") or str(call.request.base_url).rstrip("/")
    return await page(call, token={"name": record.name, "value": value, "header": PUSH_TOKEN_HEADER,
                                   "webhook_url": f"{base}/v1/leaderboard/{lid}/dataset/push"}, status=201)


async def revoke_tokens(call: Call[None]) -> Response:
    lid = call.path["leaderboard_id"]
    await push_datasets.push_board(call.deps, call.workspace_id, lid)
    await push_tokens.revoke_push_tokens(call.deps, lid)
    return redirect(f"/leaderboards/{lid}/dataset")


async def download(call: Call[None]) -> Response:
    lid = call.path["leaderboard_id"]
    await push_datasets.push_board(call.deps, call.workspace_id, lid)
    pointer, chunks = await consolidation.read_dataset(call.deps, lid)
    headers = {"Content-Disposition": f'attachment; filename="dataset-v{pointer.version if pointer else 0}.jsonl"',
               "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
    if chunks is None:
        return Response(b"", media_type="application/x-ndjson", headers=headers)
    return StreamingResponse(chunks, media_type="application/x-ndjson", headers=headers)
