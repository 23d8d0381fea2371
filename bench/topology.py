"""One run in the deployed shape against the same run on the embedded server, side by side.

2 candidates x 200 rows against a local upstream answering in 100 ms, through the API of
each: `drgero serve` (in-process queue, candidates' chunks side by side) and the local
topology (each family its own functions-framework process, chunks delivered by the Cloud
Tasks emulator to the task worker). Rounds alternate, so a noisy machine hurts both alike.
The emulator dispatches one task at a time, so there the candidates' chunks run one after
the other: about candidates x chunks x chunk time, against chunks x chunk time embedded.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench.gateway import start_server
from infra.topology import Topology, start_emulators

ROOT = Path(__file__).resolve().parents[1]
ROWS, CANDIDATES, DELAY, ROUNDS = 200, 2, 0.1, 2
DRGERO = Path(sys.executable).with_name("drgero")


def _token(env: dict[str, str]) -> str:
    done = subprocess.run([str(DRGERO), "token", "create", "--workspace", "bench", "--scopes", "all"],
                          env={**os.environ, **env}, capture_output=True, text=True, check=True)
    return done.stdout.splitlines()[-1]


def timed_run(base: str, token: str, upstream: str) -> float:
    """Seconds from starting a run of CANDIDATES x ROWS to its completion, as a client sees it."""
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60) as api:
        board = api.post("/api/leaderboards", json={
            "name": "bench", "system_prompt": "{input}", "dataset_type": "PUSH", "eval_type": "exact"}
        ).raise_for_status().json()["leaderboard"]["id"]
        rows = [{"id": f"r{n}", "input": f"Question {n}\nanswer-{n}", "expected": f"answer-{n}"} for n in range(ROWS)]
        api.post(f"/v1/leaderboard/{board}/dataset/push", json={"rows": rows}).raise_for_status()
        api.post(f"/v1/leaderboard/{board}/dataset/consolidate").raise_for_status()
        for n in range(CANDIDATES):
            api.post(f"/api/leaderboards/{board}/models", json={
                "name": f"c{n}", "platform": "Custom", "model_url": f"{upstream}/m/echo{n}/v1"}).raise_for_status()
        started = time.perf_counter()
        run_id = api.post(f"/api/leaderboards/{board}/run", json={}).raise_for_status().json()["id"]
        while (run := api.get(f"/api/leaderboards/{board}/runs/{run_id}").json())["status"] in ("queued", "running"):
            time.sleep(0.05)
        seconds = time.perf_counter() - started
    assert run["status"] == "completed" and all(e["mean_score"] == 1.0 for e in run["ranking"]), run
    return seconds


def measure(upstream: str) -> tuple[list[float], list[float]]:
    with tempfile.TemporaryDirectory() as home:
        logs = Path(home, "logs")
        logs.mkdir()
        server, port = start_server(str(Path(home, "embedded")))
        emulators, hosts = start_emulators(logs)
        topology = Topology(hosts, logs, overrides={"DRGERO_ALLOW_PRIVATE_URLS": "true"})
        try:
            topology.start()
            embedded = (f"http://127.0.0.1:{port}", _token({"DRGERO_DATA_DIR": str(Path(home, "embedded"))}))
            deployed = (topology.url, _token(topology.cli_env()))
            times: tuple[list[float], list[float]] = ([], [])
            for _ in range(ROUNDS):
                times[0].append(timed_run(*embedded, upstream))
                times[1].append(timed_run(*deployed, upstream))
            return times
        finally:
            topology.stop()
            for child in emulators:
                child.stop()
            server.terminate()
            server.wait(timeout=10)


async def run() -> str:
    upstream = subprocess.Popen([sys.executable, "-m", "tests.upstream", str(DELAY)], cwd=ROOT,
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        url = upstream.stdout.readline().strip()
        embedded, deployed = await asyncio.to_thread(measure, url)
    finally:
        upstream.terminate()
        upstream.wait(timeout=10)
    ours, theirs = statistics.median(embedded), statistics.median(deployed)
    return (f"topology: one run of {CANDIDATES} candidates x {ROWS} rows, upstream {DELAY * 1000:.0f} ms, "
            f"median of {ROUNDS} alternating rounds\n"
            f"  embedded server {ours:6.2f} s   deployed shape (Cloud Tasks emulator) {theirs:6.2f} s "
            f"({theirs / ours:.2f}x)   rounds: {', '.join(f'{a:.2f}/{b:.2f}' for a, b in zip(embedded, deployed))}")
