"""Console page times: the leaderboard page and a run's matrix on a 10,000-row, 5-candidate run.

The run is seeded the way a run leaves it (result JSONL blobs per candidate and chunk, the run
document with its ranking, the leaderboard's latest ranking), on the embedded default in a temp
directory. Pages are requested through the app in process with a signed-in console cookie, so
the time is the server's: routing, the session check, the services, the matrix and the
template. The matrix of a finished run is parsed once per instance, so the first request is
reported apart from the steady state. Target: p99 under 150 ms.
"""

from __future__ import annotations

import random
import statistics
import tempfile
import time
from pathlib import Path

import httpx
import orjson

from functions.server import create_app
from shared.bootstrap import build
from shared.config import Settings
from shared.domain.ranking import CandidateRows, rank
from shared.domain.run import Run
from shared.domain.times import iso
from shared.http.authenticate import CONSOLE_COOKIE
from shared.ports import Deps
from shared.schemas.candidates import CandidateCreate
from shared.schemas.leaderboards import LeaderboardCreate
from shared.services.candidates import add_candidate
from shared.services.console_sessions import create_sign_in_link, sign_in_with_link
from shared.services.leaderboards import create_leaderboard
from shared.services.runs import result_key
from shared.services.workspaces import create_workspace
from shared.stores.leaderboards import Leaderboards
from shared.stores.runs import Runs

ROWS, CANDIDATES, CHUNK = 10_000, 5, 100
REQUESTS = 200
TARGET_MS = 150.0


def _result(rng: random.Random, n: int, cid: str, right: float) -> dict:
    ok = rng.random() < right
    expected = f"answer number {n}"
    return {"row_id": f"r{n}", "candidate_id": cid, "status": "scored", "error": None,
            "input": f"Question {n}: what is the answer to this fairly ordinary support question about billing?",
            "expected": expected, "output": expected if ok else f"a different answer {rng.randint(0, 9)}",
            "score": 1.0 if ok else 0.0, "latency_ms": round(rng.uniform(80, 900), 2), "tokens": rng.randint(20, 90),
            "cost_usd": round(rng.uniform(1e-5, 3e-4), 7)}


async def _seed(deps: Deps) -> tuple[str, str, str]:
    workspace = await create_workspace(deps, "bench")
    board = await create_leaderboard(deps, workspace.id, LeaderboardCreate.model_validate(
        {"name": "bench", "system_prompt": "{input}", "dataset_type": "PUSH", "eval_type": "exact"}))
    ids = [(await add_candidate(deps, workspace.id, board.id, CandidateCreate.model_validate(
        {"name": f"model-{n}", "platform": "Custom", "model_url": f"http://127.0.0.1:9/v{n}"}))).id
        for n in range(CANDIDATES)]
    rng, collected = random.Random(7), {cid: CandidateRows(cid) for cid in ids}
    run_id, chunks = deps.ids.new_id(), ROWS // CHUNK
    for index, cid in enumerate(ids):
        for chunk in range(chunks):
            results = [_result(rng, n, cid, 0.5 + 0.08 * index) for n in range(chunk * CHUNK, (chunk + 1) * CHUNK)]
            for result in results:
                collected[cid].scores[result["row_id"]] = result["score"]
                collected[cid].latencies_ms.append(result["latency_ms"])
                collected[cid].tokens += result["tokens"]
                collected[cid].cost_usd += result["cost_usd"]
                collected[cid].cost_known = True
            body = b"".join(orjson.dumps(r, option=orjson.OPT_APPEND_NEWLINE) for r in results)
            await deps.blobs.put(result_key(run_id, cid, chunk), body, content_type="application/x-ndjson")
    ranking, now = rank(list(collected.values())), iso(deps.clock.now())
    run = Run(id=run_id, workspace_id=workspace.id, leaderboard_id=board.id, status="completed", eval_type="exact",
              candidate_ids=ids, candidates=[{"id": cid, "name": f"model-{n}", "platform": "Custom"}
                                             for n, cid in enumerate(ids)],
              rows=ROWS, chunks=chunks, chunk_rows=CHUNK, created_at=now, started_at=now, finished_at=now,
              ranking=ranking, winner_id=ranking[0]["candidate_id"])
    await Runs(deps.documents).create(run)
    await Leaderboards(deps.documents).change(
        board.id, lambda b: b.record_ranking(run_id, ranking, ranking[0]["candidate_id"], now))
    return workspace.id, board.id, run_id


async def _times(client: httpx.AsyncClient, path: str) -> tuple[float, list[float], list[float]]:
    started = time.perf_counter()
    first = await client.get(path)
    assert first.status_code == 200, (path, first.status_code, first.text[:300])
    cold = (time.perf_counter() - started) * 1000
    wall, cpu = [], []
    for _ in range(REQUESTS):
        started, used = time.perf_counter(), time.process_time()
        answer = await client.get(path)
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - used) * 1000)
        assert answer.status_code == 200
    return cold, wall, cpu


def _quantiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def _line(name: str, cold: float, wall: list[float], cpu: list[float]) -> str:
    (p50, p99), (cpu50, cpu99) = _quantiles(wall), _quantiles(cpu)
    verdict = "ok" if p99 < TARGET_MS else "over target"
    return (f"  {name:<40} first {cold:7.1f} ms | wall p50 {p50:6.1f} p99 {p99:6.1f} ms ({verdict}) "
            f"| CPU p50 {cpu50:5.1f} p99 {cpu99:5.1f} ms")


async def run() -> str:
    with tempfile.TemporaryDirectory() as home:
        deps = build(Settings(_env_file=None, data_dir=Path(home), ticker_seconds=0, allow_private_urls=True))
        workspace_id, board, run_id = await _seed(deps)
        secret, _ = await sign_in_with_link(deps, await create_sign_in_link(deps, workspace_id))
        transport = httpx.ASGITransport(app=create_app(deps))
        lines = [f"Console pages, embedded default, {ROWS:,} rows x {CANDIDATES} candidates, {REQUESTS} requests "
                 f"each (target p99 < {TARGET_MS:.0f} ms):"]
        async with httpx.AsyncClient(transport=transport, base_url="http://bench.test",
                                     cookies={CONSOLE_COOKIE: secret}) as client:
            base = f"/leaderboards/{board}/runs/{run_id}"
            for name, path in (("leaderboard page", f"/leaderboards/{board}"),
                               ("run matrix, page 1", base),
                               ("run matrix, failures, page 40", f"{base}?filter=failures&page=40"),
                               ("run matrix, different answers, page 2", f"{base}?filter=different&page=2"),
                               ("run matrix, search", f"{base}?q=question+4242"),
                               ("row detail", f"{base}/rows/5000")):
                lines.append(_line(name, *await _times(client, path)))
        await deps.chat.aclose()
        return "\n".join(lines)


if __name__ == "__main__":
    import asyncio

    print(asyncio.run(run()))
