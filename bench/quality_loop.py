"""The quality loop end to end, timed: live traffic scored online -> a drop -> a run -> the other model serves.

A local OpenAI-compatible upstream (tests/upstream.py) serves two candidates: `switch-a`,
which echoes the right answer until it is switched to "bad", and `upper`, which shouts it
(right only where the answer is already upper case, since the leaderboard's exact match is
case sensitive). On the 10-row dataset `switch-a` scores 1.0 and `upper` 0.2, so the first
run chooses `switch-a`. Production calls carry an expected answer (upper case, which both
models get right while `switch-a` is good) and every one is scored online (sample rate 1).
Then `switch-a` goes bad: the first bad score puts its live quality more than `drop` below
its ranking, the quality_drop trigger starts a run, `upper` wins it and the next call is
answered by `upper`.

The time reported is from the first bad call until the chosen model has changed (scoring
task, trigger, the run's prepare, chunk and finalize tasks), on the embedded backend with
the in-process queue; `scenario` is what tests/http/test_quality_loop.py checks too.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from functions.server import create_app
from shared.bootstrap import build
from shared.config import Settings
from shared.services.api_tokens import create_api_token
from shared.services.tasks import runner
from shared.services.workspaces import create_workspace
from tests.upstream import running_upstream

ROWS = [{"id": f"fr{n}", "input": f"Country: France ({n})\nParis", "expected": "Paris"} for n in range(8)] + \
       [{"id": "us", "input": "Country: USA\nDC", "expected": "DC"},
        {"id": "uk", "input": "Country: UK\nLONDON", "expected": "LONDON"}]
TRAFFIC = ["DC", "NYC", "LA", "SF", "ATL", "BOS", "SEA", "MIA"]
TRIGGER = {"enabled": True, "min_samples": 5, "drop": 0.1, "window_hours": 24}


@dataclass
class LoopReport:
    board: str
    good: str  # switch-a: chosen first, then bad
    other: str  # upper: chosen by the quality_drop run
    seconds: float = 0.0  # first bad call -> the other model chosen
    runs: list[dict[str, Any]] = field(default_factory=list)
    answered_after: str | None = None  # the candidate that answered the first call after the loop


async def _ok(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    return response.json()


async def _infer(client: httpx.AsyncClient, auth: dict[str, str], board: str, answer: str) -> dict[str, Any]:
    return await _ok(await client.post(f"/v1/leaderboard/{board}/inference", headers=auth, json={
        "input": f"Which city?\n{answer}", "expected": answer}))


async def _chosen(client: httpx.AsyncClient, auth: dict[str, str], board: str) -> str | None:
    detail = await _ok(await client.get(f"/api/leaderboards/{board}", headers=auth))
    return detail["leaderboard"]["chosen_leaderboard_model_id"]


async def scenario(client: httpx.AsyncClient, auth: dict[str, str], upstream: Any, queue: Any) -> LoopReport:
    """Drive the loop through the HTTP API; `queue` is the in-process queue, started."""
    board = (await _ok(await client.post("/api/leaderboards", headers=auth, json={
        "name": "Cities", "system_prompt": "Name the city.\n{input}", "dataset_type": "PUSH", "eval_type": "exact",
        "eval_metadata": {"exact": {"case_sensitive": True}}}), 201))["leaderboard"]["id"]
    await _ok(await client.post(f"/v1/leaderboard/{board}/dataset/push", headers=auth, json={"rows": ROWS}), 202)
    await _ok(await client.post(f"/v1/leaderboard/{board}/dataset/consolidate", headers=auth))
    ids = []
    for name, behaviour in (("a", "switch-a"), ("upper", "upper")):
        ids.append((await _ok(await client.post(f"/api/leaderboards/{board}/models", headers=auth, json={
            "name": name, "platform": "Custom", "model_url": upstream.model_url(behaviour)}), 201))["id"])
    report = LoopReport(board, *ids)
    upstream.switches["a"] = "good"
    await _ok(await client.post(f"/api/leaderboards/{board}/run", headers=auth, json={}), 202)
    await queue.drain(timeout=60)
    assert await _chosen(client, auth, board) == report.good
    await _ok(await client.patch(f"/api/leaderboards/{board}", headers=auth, json={
        "online_eval": {"sample_rate": 1.0},
        "schedule": {"version": 2, "triggers": {"quality_drop": TRIGGER}}}))
    for answer in TRAFFIC[:5]:  # good traffic: live quality 1.0, as ranked
        assert (await _infer(client, auth, board, answer))["model"]["id"] == report.good
    await queue.drain(timeout=60)
    upstream.switches["a"] = "bad"
    started = time.perf_counter()
    for answer in TRAFFIC[5:]:
        await _infer(client, auth, board, answer)
    while await _chosen(client, auth, board) != report.other:
        await queue.drain(timeout=60)
        if time.perf_counter() - started > 60:
            raise AssertionError("the chosen model never changed")
    report.seconds = time.perf_counter() - started
    await queue.drain(timeout=60)
    report.answered_after = (await _infer(client, auth, board, "DC"))["model"]["id"]
    for answer in TRAFFIC:  # the new model's traffic is scored too, and is good: nothing fires again
        await _infer(client, auth, board, answer)
    await queue.drain(timeout=60)
    report.runs = (await _ok(await client.get(f"/api/leaderboards/{board}/runs", headers=auth)))["data"]
    return report


REPEATS = 5


async def one_loop() -> LoopReport:
    with tempfile.TemporaryDirectory() as home, running_upstream() as upstream:
        deps = build(Settings(_env_file=None, data_dir=Path(home), ticker_seconds=0, allow_private_urls=True))
        workspace = await create_workspace(deps, "bench", "pro")
        token, _ = await create_api_token(deps, workspace.id, "bench", ["leaderboards:read", "leaderboards:write",
                                                                         "leaderboards:run", "inference",
                                                                         "traces:read"])
        deps.queue.start(runner(deps))
        transport = httpx.ASGITransport(app=create_app(deps))
        async with httpx.AsyncClient(transport=transport, base_url="http://drgero.bench") as client:
            report = await scenario(client, {"Authorization": f"Bearer {token}"}, upstream, deps.queue)
        await deps.queue.stop()
        await deps.chat.aclose()
    assert report.answered_after == report.other and len(report.runs) == 2, report
    return report


async def run() -> str:
    seconds = sorted([(await one_loop()).seconds for _ in range(REPEATS)])
    return (f"quality loop (embedded, in-process queue, local upstream, 10-row dataset, 2 candidates): first bad "
            f"call -> other model chosen, median {seconds[len(seconds) // 2] * 1000:.0f} ms, "
            f"max {seconds[-1] * 1000:.0f} ms over {REPEATS} loops")


if __name__ == "__main__":
    print(asyncio.run(run()))
