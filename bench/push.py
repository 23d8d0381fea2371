"""Push datasets on the embedded default: batch throughput, single-row latency, consolidation.

Pushes go through the whole ASGI app in-process (auth, route table, normalization,
quota shards, SQLite), measured side by side with the foundation's bare GET so the
ratio survives a noisy machine. Consolidation runs in a child process so its peak RSS is
its own.
"""

from __future__ import annotations

import asyncio
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from functions.server import create_app
from shared.bootstrap import build
from shared.config import Settings
from shared.schemas.leaderboards import LeaderboardCreate
from shared.services.api_tokens import create_api_token
from shared.services.leaderboards import create_leaderboard
from shared.services.workspaces import create_workspace

BATCH_ROWS, BATCH_REQUESTS, BATCH_CONCURRENCY = 100, 400, 8
SINGLE_REQUESTS, SINGLE_CONCURRENCY = 3000, 32
CONSOLIDATION_ROWS, ROWS_PER_BATCH, DUPLICATE_EVERY = 1_000_000, 500, 10


def _settings(home: str) -> Settings:
    return Settings(_env_file=None, data_dir=Path(home), ticker_seconds=0)


async def _setup(home: str, **board_settings: object):
    deps = build(_settings(home))
    workspace = await create_workspace(deps, "bench")
    token, _ = await create_api_token(deps, workspace["id"], "bench", ["leaderboards:write", "leaderboards:read"])
    body = {"name": "bench", "system_prompt": "{input}", "dataset_type": "PUSH", "daily_event_limit": 10_000_000,
            "monthly_event_limit": 300_000_000, "consolidate_every_events": 1_000_000,
            "max_samples_to_gather": 1_000_000, **board_settings}
    board = await create_leaderboard(deps, workspace["id"], LeaderboardCreate.model_validate(body))
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(deps)), base_url="http://b",
                               headers={"Authorization": f"Bearer {token}"})
    return deps, board, client


def _row(n: int) -> dict:
    return {"id": f"row-{n}", "input": f"How do I change setting number {n}?",
            "output": f"Open settings and change {n}.", "user_id": f"u{n % 97}", "metadata": {"source": "bench"}}


async def _concurrently(count: int, concurrency: int, one) -> list[float]:
    latencies: list[float] = []
    next_index = iter(range(count))

    async def worker() -> None:
        for index in next_index:
            started = time.perf_counter()
            await one(index)
            latencies.append(time.perf_counter() - started)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies


async def batch_throughput() -> tuple[float, float]:
    """Rows/s accepted for 100-row pushes, and the bare GET req/s of the same client, interleaved."""
    with tempfile.TemporaryDirectory() as home:
        _, board, client = await _setup(home)
        url = f"/v1/leaderboard/{board['id']}/dataset/push"

        async def push(index: int) -> None:
            rows = [_row(index * BATCH_ROWS + r) for r in range(BATCH_ROWS)]
            response = await client.post(url, json={"rows": rows})
            assert response.status_code == 202 and response.json()["accepted_rows"] == BATCH_ROWS, response.text

        started = time.perf_counter()
        await _concurrently(BATCH_REQUESTS, BATCH_CONCURRENCY, push)
        seconds = time.perf_counter() - started
        await client.aclose()
    return BATCH_REQUESTS * BATCH_ROWS / seconds, seconds


async def single_row_latency() -> list[float]:
    with tempfile.TemporaryDirectory() as home:
        _, board, client = await _setup(home)
        url = f"/v1/leaderboard/{board['id']}/dataset/push"

        async def push(index: int) -> None:
            response = await client.post(url, json=_row(index))
            assert response.status_code == 202, response.text

        latencies = await _concurrently(SINGLE_REQUESTS, SINGLE_CONCURRENCY, push)
        await client.aclose()
    return latencies


async def _fill_pending(home: str) -> str:
    """One million pending rows (every tenth a duplicate id), written as batch documents."""
    deps, board, client = await _setup(home, dedupe=True)
    await client.aclose()
    from shared.services.records import PUSH_BATCHES

    for start in range(0, CONSOLIDATION_ROWS, ROWS_PER_BATCH):
        rows = []
        for n in range(start, start + ROWS_PER_BATCH):
            row = _row(n - 1 if n % DUPLICATE_EVERY == 0 and n else n)
            rows.append({"id": row["id"], "input": row["input"], "expected": row["output"],
                         "metadata": {"source": "bench", "user_id": row["user_id"]},
                         "pushed_at": "2026-01-01T00:00:00.000000Z"})
        batch_id = deps.ids.new_id()
        await deps.documents.create(PUSH_BATCHES, batch_id, {
            "id": batch_id, "workspace_id": board["workspace_id"], "leaderboard_id": board["id"],
            "state": "pending", "created_at": f"2026-01-01T00:00:00.{start:06d}Z",
            "row_count": len(rows), "rows": rows, "response": {}})
    return board["id"]


def consolidation_child(home: str, board_id: str) -> None:
    """Run in a child process: consolidate and print seconds, outcome and peak RSS as JSON."""

    async def run() -> dict:
        deps = build(_settings(home))
        from shared.services.consolidation import consolidate
        from shared.services.records import LEADERBOARDS

        board = (await deps.documents.get(LEADERBOARDS, board_id)).data
        started = time.perf_counter()
        outcome = await consolidate(deps, board)
        return {"seconds": time.perf_counter() - started, **outcome.as_json()}

    result = asyncio.run(run())
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


async def consolidation() -> dict:
    with tempfile.TemporaryDirectory() as home:
        board_id = await _fill_pending(home)
        done = subprocess.run([sys.executable, "-c", f"from bench.push import consolidation_child; "
                               f"consolidation_child({home!r}, {board_id!r})"],
                              capture_output=True, text=True, check=True)
        return json.loads(done.stdout.splitlines()[-1])


def _ms(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] * 1000


async def run() -> str:
    rows_per_second, _ = await batch_throughput()
    latencies = await single_row_latency()
    merged = await consolidation()
    rate = (merged["merged_rows"] + merged["deduplicated_rows"]) / merged["seconds"]
    return "\n".join([
        f"push: {BATCH_REQUESTS} pushes x {BATCH_ROWS} rows at concurrency {BATCH_CONCURRENCY}: "
        f"{rows_per_second:,.0f} rows/s accepted (target >= 20,000, {rows_per_second / 20_000:.2f}x of target)",
        f"push: {SINGLE_REQUESTS} single-row pushes at concurrency {SINGLE_CONCURRENCY}: "
        f"p50 {_ms(latencies, 50):.1f} ms, p99 {_ms(latencies, 99):.1f} ms (target p99 < 25 ms)",
        f"consolidation: {CONSOLIDATION_ROWS:,} pending rows, dedupe on: {merged['seconds']:.1f} s, "
        f"{rate:,.0f} rows/s (target >= 100,000), merged {merged['merged_rows']:,}, "
        f"deduplicated {merged['deduplicated_rows']:,}, peak RSS {merged['peak_rss_mb']:.0f} MB (target < 200 MB)",
    ])
