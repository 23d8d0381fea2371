"""Auto-select candidate models for a leaderboard, on a browser session (any member)."""

from __future__ import annotations

from typing import Any

from shared.auth.scopes import WORKSPACE_MEMBER
from shared.http.routes import Call, Route
from shared.schemas.auto_select import AutoSelectRequest, AutoSelectResult
from shared.services.auto_select import auto_select


async def auto_select_models(call: Call[AutoSelectRequest | None]) -> dict[str, Any]:
    body = call.body or AutoSelectRequest()
    return await auto_select(call.deps, call.workspace_id, call.path["leaderboard_id"], body)


ROUTES = [
    Route("POST", "/api/leaderboards/{leaderboard_id}/models/auto-select", auto_select_models,
          "Pick OpenRouter candidate models by price, latency and openness, and add them", auth="session",
          scopes=(WORKSPACE_MEMBER,), body=AutoSelectRequest, body_required=False, response=AutoSelectResult,
          errors=(502,)),
]
