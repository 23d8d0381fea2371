"""What the HTTP foundation costs per request: auth, routing, validation, storage.

Interleaved rounds of the same leaderboard read through the full app (token lookup,
route table, SQLite read, response model) and through a bare Starlette route that returns
the same JSON body, so machine noise hits both sides alike. Reported as medians and ratio.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import httpx
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from functions.server import create_app
from shared.bootstrap import build
from shared.config import Settings
from shared.schemas.leaderboards import LeaderboardCreate
from shared.services.api_tokens import create_api_token
from shared.services.leaderboards import create_leaderboard
from shared.services.workspaces import create_workspace

ROUNDS, REQUESTS_PER_ROUND = 15, 200


async def _round(client: httpx.AsyncClient, path: str, headers: dict[str, str]) -> float:
    started = time.perf_counter()
    for _ in range(REQUESTS_PER_ROUND):
        response = await client.get(path, headers=headers)
        assert response.status_code == 200, response.text
    return (time.perf_counter() - started) / REQUESTS_PER_ROUND * 1e6


async def run() -> str:
    with tempfile.TemporaryDirectory() as home:
        deps = build(Settings(_env_file=None, data_dir=Path(home)))
        workspace = await create_workspace(deps, "bench")
        token, _ = await create_api_token(deps, workspace.id, "bench", ["leaderboards:read"])
        board = await create_leaderboard(deps, workspace.id, LeaderboardCreate.model_validate(
            {"name": "bench", "system_prompt": "{input}", "dataset_type": "PUSH"}))
        path, headers = f"/api/leaderboards/{board.id}", {"Authorization": f"Bearer {token}"}
        full = httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(deps)), base_url="http://b")
        body = (await full.get(path, headers=headers)).json()

        async def same_body(request):
            return JSONResponse(body)

        bare = httpx.AsyncClient(transport=httpx.ASGITransport(
            app=Starlette(routes=[Route(path, same_body)])), base_url="http://b")
        full_us, bare_us = [], []
        for _ in range(ROUNDS):
            full_us.append(await _round(full, path, headers))
            bare_us.append(await _round(bare, path, headers))
        await full.aclose()
        await bare.aclose()
    full_median, bare_median = statistics.median(full_us), statistics.median(bare_us)
    return (f"api_overhead: GET /api/leaderboards/{{id}}, {ROUNDS} interleaved rounds x {REQUESTS_PER_ROUND}\n"
            f"  full app   {full_median:8.0f} us/request (median of rounds)\n"
            f"  bare route {bare_median:8.0f} us/request\n"
            f"  ratio      {full_median / bare_median:8.2f}x, foundation cost "
            f"{full_median - bare_median:.0f} us/request")
