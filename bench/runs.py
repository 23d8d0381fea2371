"""Run throughput: 5 candidates x 1,000 rows against a local upstream that answers in 100 ms.

The upstream is `upstream.mjs` (Node, answering after a 100 ms timer) in its own process.
The tests' Python server spent about 0.6 ms of CPU per call, so at 5 x 16 calls in flight it
took a quarter of this 2-core machine from the process being measured; Node spends a
quarter to a third of that. Each candidate keeps `candidate_concurrency` calls in flight and
candidates run side by side, so the ideal wall time is rows x 0.1 s / C. The same rows go
through promptfoo (npm) against the same upstream with 5 x C requests in flight overall,
when promptfoo is installed in bench/node_modules (`npm install --prefix bench
promptfoo@0.119.0`, the last release for Node 20) or at $PROMPTFOO_BIN."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from shared.bootstrap import build
from shared.config import Settings
from shared.schemas.candidates import CandidateCreate
from shared.schemas.leaderboards import LeaderboardCreate
from shared.services import push_datasets, runs
from shared.services.candidates import add_candidate
from shared.services.consolidation import consolidate
from shared.services.leaderboards import create_leaderboard
from shared.services.tasks import runner
from shared.services.workspaces import create_workspace
from shared.stores.runs import Runs

ROWS, CANDIDATES, DELAY = 1000, 5, 0.1
CONCURRENCIES = (4, 16)
ROOT = Path(__file__).resolve().parents[1]
UPSTREAM = ROOT / "bench" / "upstream.mjs"
PROMPTFOO = Path(os.environ.get("PROMPTFOO_BIN", ROOT / "bench" / "node_modules" / ".bin" / "promptfoo"))


def _rows() -> list[dict]:
    return [{"id": f"r{n}", "input": f"Question {n}\nanswer-{n}", "expected": f"answer-{n}"} for n in range(ROWS)]


async def drgero_wall_time(upstream: str, concurrency: int) -> float:
    with tempfile.TemporaryDirectory() as home:
        settings = Settings(_env_file=None, data_dir=Path(home), ticker_seconds=0, allow_private_urls=True,
                            candidate_concurrency=concurrency, run_chunk_rows=100)
        deps = build(settings)
        workspace = await create_workspace(deps, "bench")
        board = await create_leaderboard(deps, workspace.id, LeaderboardCreate.model_validate(
            {"name": "bench", "system_prompt": "{input}", "dataset_type": "PUSH", "eval_type": "exact",
             "daily_event_limit": 100_000, "monthly_event_limit": 1_000_000, "max_samples_to_gather": 100_000}))
        rows = _rows()
        for start in range(0, ROWS, 500):
            await push_datasets.push(deps, workspace.id, board.id, {"rows": rows[start:start + 500]})
        await consolidate(deps, board)
        for n in range(CANDIDATES):
            await add_candidate(deps, workspace.id, board.id, CandidateCreate.model_validate(
                {"name": f"c{n}", "platform": "Custom", "model_url": f"{upstream}/m/echo{n}/v1"}))
        deps.queue.start(runner(deps))
        started = time.perf_counter()
        run = await runs.start_run(deps, workspace.id, board.id, None, "api")
        await deps.queue.drain(timeout=600)
        seconds = time.perf_counter() - started
        await deps.queue.stop()
        done = await Runs(deps.documents).get(run.id)
        assert done is not None and done.status == "completed", done
        assert all(entry["mean_score"] == 1.0 for entry in done.ranking or []), done.ranking
        await deps.chat.aclose()
        return seconds


def promptfoo_wall_time(upstream: str, concurrency: int) -> float | None:
    if not PROMPTFOO.exists() or shutil.which("node") is None:
        return None
    with tempfile.TemporaryDirectory() as work:
        tests = Path(work, "tests.jsonl")
        tests.write_text("".join(json.dumps({"vars": {"input": r["input"]},
                                             "assert": [{"type": "equals", "value": r["expected"]}]}) + "\n"
                                 for r in _rows()))
        providers = [{"id": "openai:chat:local", "label": f"c{n}",
                      "config": {"apiBaseUrl": f"{upstream}/m/echo{n}/v1", "apiKey": "local"}} for n in range(CANDIDATES)]
        Path(work, "promptfooconfig.json").write_text(json.dumps(
            {"prompts": ["{{input}}"], "providers": providers, "tests": f"file://{tests}"}))
        env = {**os.environ, "PROMPTFOO_DISABLE_TELEMETRY": "1", "PROMPTFOO_DISABLE_UPDATE": "1",
               "PROMPTFOO_CACHE_ENABLED": "false", "PROMPTFOO_DISABLE_SHARING": "1", "HOME": work}
        started = time.perf_counter()
        done = subprocess.run([str(PROMPTFOO), "eval", "-c", "promptfooconfig.json", "--no-cache", "--no-table",
                               "-j", str(CANDIDATES * concurrency), "-o", "out.json"],
                              cwd=work, env=env, capture_output=True, text=True, timeout=1200, check=False)
        if not Path(work, "out.json").exists():
            raise RuntimeError(f"promptfoo failed: {done.stdout[-800:]} {done.stderr[-800:]}")
        seconds = time.perf_counter() - started
        result = json.loads(Path(work, "out.json").read_text())
        stats = result["results"]["stats"]
        assert stats["successes"] == ROWS * CANDIDATES, stats
        return seconds


async def run() -> str:
    upstream = subprocess.Popen(["node", str(UPSTREAM), str(round(DELAY * 1000))], cwd=ROOT,
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        url = upstream.stdout.readline().strip()
        lines = [f"runs: {CANDIDATES} candidates x {ROWS} rows, upstream answers in {DELAY * 1000:.0f} ms"]
        for concurrency in CONCURRENCIES:
            ideal = ROWS * DELAY / concurrency
            ours = await drgero_wall_time(url, concurrency)
            theirs = await asyncio.to_thread(promptfoo_wall_time, url, concurrency)
            line = (f"  C={concurrency:<3} ideal {ideal:6.1f} s  drgero {ours:6.1f} s ({ours / ideal:.2f}x ideal)")
            line += (f"  promptfoo -j {CANDIDATES * concurrency} {theirs:6.1f} s ({theirs / ours:.2f}x drgero)"
                     if theirs is not None else "  promptfoo not installed (npm install --prefix bench promptfoo@0.119.0)")
            lines.append(line)
        return "\n".join(lines)
    finally:
        upstream.terminate()
        upstream.wait(timeout=10)
