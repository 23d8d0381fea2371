"""Fine-tuning routes of the resource family: start, list and sync an own model's fine-tunes."""

from __future__ import annotations

from typing import Any

from shared.auth import scopes as S
from shared.http.routes import Call, Route
from shared.schemas.common import Page, PageQuery
from shared.schemas.fine_tunes import FineTuneRunPublic, FineTuneStart, FineTuneSynced
from shared.services import fine_tunes


async def start_fine_tune(call: Call[FineTuneStart]) -> Any:
    return await fine_tunes.start(call.deps, call.workspace_id, call.path["model_id"], call.body)


async def list_fine_tunes(call: Call[None]) -> dict[str, Any]:
    items, total = await fine_tunes.list_runs(call.deps, call.workspace_id, call.path["model_id"],
                                              call.query.limit, call.query.offset)
    return Page.of(items, total, call.query)


async def sync_fine_tunes(call: Call[None]) -> dict[str, Any]:
    return await fine_tunes.sync(call.deps, call.workspace_id, call.path["model_id"])


FT = "/api/models/{model_id}/fine-tune"
ROUTES = [
    Route("GET", f"{FT}/runs", list_fine_tunes, "List the model's fine-tune runs, newest first",
          scopes=(S.MODELS_READ,), query=PageQuery, response=Page[FineTuneRunPublic]),
    Route("POST", f"{FT}/run", start_fine_tune, "Fine-tune the model on a leaderboard's dataset",
          scopes=(S.MODELS_WRITE,), body=FineTuneStart, response=FineTuneRunPublic, status=201,
          errors=(409, 502)),
    Route("POST", f"{FT}/sync", sync_fine_tunes, "Poll the backend and record finished fine-tunes",
          scopes=(S.MODELS_WRITE,), response=FineTuneSynced, errors=(502,)),
]
