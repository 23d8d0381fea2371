"""Push datasets on the embedded default: batch throughput, single-row cost and latency, consolidation.

Pushes go to a real `drgero serve` process over loopback (uvicorn, auth, route table,
normalization, quota shards, SQLite). The load comes from a small Node client
(load.mjs): a Python client needs more CPU per request than the server and, on a
two-core machine, would measure itself. Consolidation runs in a child process so its
peak RSS is its own.

Single-row pushes are measured side by side with the floor (`bench.floor`: a bare route on
the same uvicorn options that parses the row and inserts it into SQLite): after a warm-up of
each, ROUNDS rounds of SINGLE_REQUESTS requests at SINGLE_CONCURRENCY in flight, alternating
which goes first, with each server's CPU time (user + system, /proc) read around its rounds.
The ratio of CPU per request is the figure that survives this shared machine's noise.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx

from bench import docops
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
SINGLE_REQUESTS, SINGLE_CONCURRENCY, SINGLE_WARMUP, ROUNDS = 10_000, 32, 2_000, 2
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


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _node_load(port: int, path: str, token: str, requests: int, concurrency: int, rows: int) -> dict:
    command = ["node", str(LOAD_GENERATOR), str(port), path, token, str(requests), str(concurrency), str(rows)]
    return json.loads(subprocess.run(command, capture_output=True, text=True, check=True).stdout)


@contextlib.asynccontextmanager
async def _served(home: str) -> AsyncIterator[tuple[str, httpx.AsyncClient, int]]:
    """The push URL of a fresh leaderboard on a `drgero serve` process, a client for it and its pid."""
    board, token = await _board(home)
    port = _free_port()
    env = {**os.environ, "DRGERO_DATA_DIR": home, "PORT": str(port), "DRGERO_TICKER_SECONDS": "0"}
    server = subprocess.Popen([str(Path(sys.executable).with_name("drgero")), "serve"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        client = await _client(port, token)
        try:
            yield f"/v1/leaderboard/{board.id}/dataset/push", client, server.pid
        finally:
            await client.aclose()
    finally:
        server.terminate()
        server.wait(timeout=10)


async def _client(port: int, token: str) -> httpx.AsyncClient:
    """A client for the server on `port`, once it answers its health check."""
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    client = httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", limits=limits, timeout=30,
                               headers={"Authorization": f"Bearer {token}"})
    for _ in range(300):
        with contextlib.suppress(httpx.TransportError):
            if (await client.get("/healthz")).status_code in (200, 404):
                return client
        await asyncio.sleep(0.05)
    await client.aclose()
    raise RuntimeError(f"nothing answered on port {port}")


def _row(n: int) -> dict:
    return {"id": f"row-{n}", "input": f"How do I change setting number {n}?",
            "output": f"Open settings and change {n}.", "user_id": f"u{n % 97}", "metadata": {"source": "bench"}}


async def _load(requests: int, concurrency: int, rows_per_request: int) -> dict:
    """Push with the Node load generator against a fresh server; its JSON report."""
    with tempfile.TemporaryDirectory() as home:
        async with _served(home) as (url, client, _):
            token = client.headers["authorization"].split()[1]
            report = await asyncio.to_thread(_node_load, client.base_url.port, url, token, requests, concurrency,
                                             rows_per_request)
            assert report["accepted"] == requests * rows_per_request, report
            return report


async def single_rows() -> dict[str, list[dict]]:
    """Rounds of single-row pushes on Dr.Gero and on the floor, alternating; per round the load
    generator's report with the server's CPU microseconds per request added."""
    rounds: dict[str, list[dict]] = {"drgero": [], "floor": []}
    with tempfile.TemporaryDirectory() as home:
        async with _served(home) as (url, client, pid):
            token = client.headers["authorization"].split()[1]
            port = _free_port()
            floor = subprocess.Popen([sys.executable, "-m", "bench.floor", home, str(port)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                await (await _client(port, token)).aclose()
                targets = {"drgero": (client.base_url.port, url, pid), "floor": (port, "/push", floor.pid)}
                for target_port, path, _ in targets.values():
                    await asyncio.to_thread(_node_load, target_port, path, token, SINGLE_WARMUP, SINGLE_CONCURRENCY, 1)
                for number in range(ROUNDS):
                    for name in sorted(targets, reverse=number % 2 == 1):
                        target_port, path, server = targets[name]
                        before = cpu_seconds(server)
                        report = await asyncio.to_thread(_node_load, target_port, path, token, SINGLE_REQUESTS,
                                                         SINGLE_CONCURRENCY, 1)
                        report["cpu_us"] = (cpu_seconds(server) - before) / SINGLE_REQUESTS * 1e6
                        assert report["accepted"] == SINGLE_REQUESTS, report
                        rounds[name].append(report)
            finally:
                floor.terminate()
                floor.wait(timeout=10)
    return rounds


def _single_lines(rounds: dict[str, list[dict]]) -> list[str]:
    lines = []
    for number, (ours, floor) in enumerate(zip(rounds["drgero"], rounds["floor"], strict=True), 1):
        lines.append(
            f"push: single-row round {number}, {SINGLE_REQUESTS:,} requests each, {SINGLE_CONCURRENCY} in flight: "
            f"Dr.Gero {ours['cpu_us']:.0f} us CPU/request, {ours['requests_per_second']:,.0f} req/s, "
            f"p50 {ours['p50_ms']:.1f} ms, p99 {ours['p99_ms']:.1f} ms; floor {floor['cpu_us']:.0f} us, "
            f"{floor['requests_per_second']:,.0f} req/s, p50 {floor['p50_ms']:.1f} ms, p99 {floor['p99_ms']:.1f} ms; "
            f"CPU ratio {ours['cpu_us'] / floor['cpu_us']:.2f}x (target <= 1.5x, p99 < 12 ms)")
    ours_cpu = sum(r["cpu_us"] for r in rounds["drgero"]) / len(rounds["drgero"])
    floor_cpu = sum(r["cpu_us"] for r in rounds["floor"]) / len(rounds["floor"])
    lines.append(f"push: single-row, all rounds: CPU/request {ours_cpu:.0f} us vs floor {floor_cpu:.0f} us, "
                 f"{ours_cpu / floor_cpu:.2f}x; worst p99 {max(r['p99_ms'] for r in rounds['drgero']):.1f} ms")
    return lines


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
    result["peak_rss_mb"] = peak_rss_mb()
    print(json.dumps(result))


def peak_rss_mb() -> float:
    """This process's own peak RSS (VmHWM starts afresh at exec; getrusage's ru_maxrss would keep the parent's)."""
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024


async def consolidation() -> dict:
    with tempfile.TemporaryDirectory() as home:
        board_id = await _fill_pending(home)
        code = f"from bench.push import consolidation_child; consolidation_child({home!r}, {board_id!r})"
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        return json.loads(done.stdout.splitlines()[-1])


async def run() -> str:
    batches = await _load(BATCH_REQUESTS, BATCH_CONCURRENCY, BATCH_ROWS)
    rows_per_second = batches["accepted"] / batches["seconds"]
    single = await single_rows()
    operations = [docops.line("embedded", await docops.embedded()),
                  docops.line("Firestore emulator", await docops.firestore())]
    merged = await consolidation()
    rate = (merged["merged_rows"] + merged["deduplicated_rows"]) / merged["seconds"]
    return "\n".join([
        f"push: {BATCH_REQUESTS} pushes x {BATCH_ROWS} rows, {BATCH_CONCURRENCY} in flight: "
        f"{rows_per_second:,.0f} rows/s accepted ({rows_per_second / 20_000:.2f}x the 20,000 target)",
        *_single_lines(single),
        *operations,
        f"consolidation: {CONSOLIDATION_ROWS:,} pending rows, dedupe on: {merged['seconds']:.1f} s, "
        f"{rate:,.0f} rows/s ({rate / 100_000:.2f}x the 100,000 target), merged {merged['merged_rows']:,}, "
        f"deduplicated {merged['deduplicated_rows']:,}, peak RSS {merged['peak_rss_mb']:.0f} MB (target < 200 MB)",
    ])
