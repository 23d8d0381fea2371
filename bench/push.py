"""Push datasets on the embedded default: batch throughput, single-row latency, consolidation.

Pushes go to a real `drgero serve` process over loopback (uvicorn, auth, route table,
normalization, quota shards, SQLite). The load comes from a small Node client
(load.mjs): a Python client needs more CPU per request than the server and, on a
two-core machine, would measure itself. Consolidation runs in a child process so its
peak RSS is its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx

from shared.bootstrap import build
from shared.config import Settings
from shared.domain.push_dataset import PushBatch
from shared.schemas.leaderboards import LeaderboardCreate
from shared.services.api_tokens import create_api_token
from shared.services.consolidation import consolidate
from shared.services.leaderboards import create_leaderboard
from shared.services.workspaces import create_workspace
from shared.stores.leaderboards import Leaderboards
from shared.stores.push_datasets import PushBatches

BATCH_ROWS, BATCH_REQUESTS, BATCH_CONCURRENCY = 100, 400, 8
SINGLE_REQUESTS, SINGLE_CONCURRENCY = 3000, 32
CONSOLIDATION_ROWS, ROWS_PER_BATCH, DUPLICATE_EVERY = 1_000_000, 500, 10
LOAD_GENERATOR = Path(__file__).with_name("load.mjs")


def _settings(home: str) -> Settings:
    return Settings(_env_file=None, data_dir=Path(home), ticker_seconds=0)


async def _board(home: str, **overrides: object) -> tuple[dict, str]:
    """A PUSH leaderboard with limits high enough for the benchmark, and a token for it."""
    deps = build(_settings(home))
    workspace = await create_workspace(deps, "bench")
    token, _ = await create_api_token(deps, workspace.id, "bench", ["leaderboards:write", "leaderboards:read"])
    body = {"name": "bench", "system_prompt": "{input}", "dataset_type": "PUSH", "daily_event_limit": 10_000_000,
            "monthly_event_limit": 300_000_000, "consolidate_every_events": 1_000_000,
            "max_samples_to_gather": 1_000_000, **overrides}
    board = await create_leaderboard(deps, workspace.id, LeaderboardCreate.model_validate(body))
    return board, token


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.asynccontextmanager
async def _served(home: str) -> AsyncIterator[tuple[str, httpx.AsyncClient]]:
    """The push URL of a fresh leaderboard on a `drgero serve` process, and a client for it."""
    board, token = await _board(home)
    port = _free_port()
    env = {**os.environ, "DRGERO_DATA_DIR": home, "PORT": str(port), "DRGERO_TICKER_SECONDS": "0"}
    server = subprocess.Popen([str(Path(sys.executable).with_name("drgero")), "serve"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    client = httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", limits=limits, timeout=30,
                               headers={"Authorization": f"Bearer {token}"})
    try:
        for _ in range(300):
            with contextlib.suppress(httpx.TransportError):
                if (await client.get("/healthz")).status_code == 200:
                    break
            await asyncio.sleep(0.05)
        yield f"/v1/leaderboard/{board.id}/dataset/push", client
    finally:
        await client.aclose()
        server.terminate()
        server.wait(timeout=10)


def _row(n: int) -> dict:
    return {"id": f"row-{n}", "input": f"How do I change setting number {n}?",
            "output": f"Open settings and change {n}.", "user_id": f"u{n % 97}", "metadata": {"source": "bench"}}


async def _load(requests: int, concurrency: int, rows_per_request: int) -> dict:
    """Push with the Node load generator against a fresh server; its JSON report."""
    with tempfile.TemporaryDirectory() as home:
        async with _served(home) as (url, client):
            token = client.headers["authorization"].split()[1]
            command = ["node", str(LOAD_GENERATOR), str(client.base_url.port), url, token, str(requests),
                       str(concurrency), str(rows_per_request)]
            done = await asyncio.to_thread(subprocess.run, command, capture_output=True, text=True, check=True)
            report = json.loads(done.stdout)
            assert report["accepted"] == requests * rows_per_request, report
            return report


async def _fill_pending(home: str) -> str:
    """One million pending rows (every tenth repeats the previous id), as pushes store them."""
    board, _ = await _board(home, dedupe=True)
    deps = build(_settings(home))
    for start in range(0, CONSOLIDATION_ROWS, ROWS_PER_BATCH):
        rows = []
        for n in range(start, start + ROWS_PER_BATCH):
            row = _row(n - 1 if n % DUPLICATE_EVERY == 0 and n else n)
            rows.append({"id": row["id"], "input": row["input"], "expected": row["output"],
                         "metadata": {"source": "bench", "user_id": row["user_id"]},
                         "pushed_at": "2026-01-01T00:00:00.000000Z"})
        batch_id = deps.ids.new_id()
        await PushBatches(deps.documents).create(PushBatch(
            id=batch_id, workspace_id=board.workspace_id, leaderboard_id=board.id,
            created_at=f"2026-01-01T00:00:00.{start:06d}Z", row_count=len(rows), rows=rows, response={}))
    return board.id


def consolidation_child(home: str, board_id: str) -> None:
    """Run in a child process: consolidate and print seconds, outcome and peak RSS as JSON."""
    async def run() -> dict:
        deps = build(_settings(home))
        board = await Leaderboards(deps.documents).get(board_id)
        started = time.perf_counter()
        outcome = await consolidate(deps, board)
        return {"seconds": time.perf_counter() - started, **outcome.as_json()}

    result = asyncio.run(run())
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


async def consolidation() -> dict:
    with tempfile.TemporaryDirectory() as home:
        board_id = await _fill_pending(home)
        code = f"from bench.push import consolidation_child; consolidation_child({home!r}, {board_id!r})"
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        return json.loads(done.stdout.splitlines()[-1])


async def run() -> str:
    batches = await _load(BATCH_REQUESTS, BATCH_CONCURRENCY, BATCH_ROWS)
    rows_per_second = batches["accepted"] / batches["seconds"]
    single = await _load(SINGLE_REQUESTS, SINGLE_CONCURRENCY, 1)
    merged = await consolidation()
    rate = (merged["merged_rows"] + merged["deduplicated_rows"]) / merged["seconds"]
    return "\n".join([
        f"push: {BATCH_REQUESTS} pushes x {BATCH_ROWS} rows, {BATCH_CONCURRENCY} in flight: "
        f"{rows_per_second:,.0f} rows/s accepted ({rows_per_second / 20_000:.2f}x the 20,000 target)",
        f"push: {SINGLE_REQUESTS} single-row pushes, {SINGLE_CONCURRENCY} in flight: "
        f"{single['requests_per_second']:,.0f} req/s, p50 {single['p50_ms']:.1f} ms, "
        f"p99 {single['p99_ms']:.1f} ms (target p99 < 25 ms)",
        f"consolidation: {CONSOLIDATION_ROWS:,} pending rows, dedupe on: {merged['seconds']:.1f} s, "
        f"{rate:,.0f} rows/s ({rate / 100_000:.2f}x the 100,000 target), merged {merged['merged_rows']:,}, "
        f"deduplicated {merged['deduplicated_rows']:,}, peak RSS {merged['peak_rss_mb']:.0f} MB (target < 200 MB)",
    ])
