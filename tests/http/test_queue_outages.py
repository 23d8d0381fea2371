"""When the task queue is down: nothing is lost, nothing is half-started, and the answer says so.

The queue here is the real Cloud Tasks adapter pointed at a port nobody listens on, which
is what a deployment sees while Cloud Tasks (or its emulator) does not answer.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from shared.adapters.cloud_tasks import CloudTasksQueue
from tests.emulators import free_port
from tests.factories import openrouter_candidate, push_leaderboard

SCHEDULE = {"version": 2, "triggers": {"cron": {"enabled": True, "preset": "CUSTOM", "expression": "0 6 * * 1"}}}


@asynccontextmanager
async def queue_down(deps) -> AsyncIterator[None]:
    """An unreachable queue for the duration; the embedded one comes back afterwards."""
    working = deps.queue
    deps.queue = CloudTasksQueue("p", "europe-west1", "q", "http://127.0.0.1:9", emulator_host=f"127.0.0.1:{free_port()}")
    try:
        yield
    finally:
        await deps.queue.aclose()
        deps.queue = working


def _cron(deps) -> dict[str, str]:
    return {"Authorization": f"Bearer {deps.settings.effective_cron_secret}"}


async def test_a_run_started_while_the_queue_is_down_is_503_and_leaves_no_run(client, auth, deps):
    board = (await client.post("/api/leaderboards", json=push_leaderboard(), headers=auth)).json()["leaderboard"]["id"]
    await client.post(f"/api/leaderboards/{board}/models", json=openrouter_candidate(), headers=auth)
    async with queue_down(deps):
        response = await client.post(f"/api/leaderboards/{board}/run", json={}, headers=auth)
    assert response.status_code == 503 and response.json()["error"] == "unavailable", response.text
    assert (await client.get(f"/api/leaderboards/{board}/runs", headers=auth)).json()["count"] == 0


async def test_a_push_whose_consolidation_cannot_be_queued_is_accepted_and_consolidated_when_due(
        client, auth, deps):
    board = (await client.post("/api/leaderboards", json=push_leaderboard(consolidate_every_events=2),
                               headers=auth)).json()["leaderboard"]["id"]
    async with queue_down(deps):
        pushed = await client.post(f"/v1/leaderboard/{board}/dataset/push", headers=auth,
                                   json={"rows": [{"input": "a"}, {"input": "b"}]})
    assert pushed.status_code == 202 and pushed.json()["accepted_rows"] == 2
    assert pushed.json()["consolidation"]["should_consolidate"] is True  # asked for, could not be queued
    due = await client.post("/api/push-datasets/consolidate-due", headers=_cron(deps))
    assert [(entry["leaderboard_id"], entry["reason"]) for entry in due.json()["consolidated"]] == [(board, "events")]
    downloaded = await client.get(f"/v1/leaderboard/{board}/dataset", headers=auth)
    assert [json.loads(line)["input"] for line in downloaded.text.splitlines()] == ["a", "b"]


async def test_a_scheduled_run_the_queue_refused_stays_due_and_starts_on_the_next_call(client, auth, deps, clock):
    board = (await client.post("/api/leaderboards", json=push_leaderboard(), headers=auth)).json()["leaderboard"]["id"]
    await client.post(f"/api/leaderboards/{board}/models", json=openrouter_candidate(), headers=auth)
    await client.patch(f"/api/leaderboards/{board}", json={"schedule": SCHEDULE}, headers=auth)
    clock.advance(days=2)  # past Monday 06:00
    async with queue_down(deps):
        deferred = (await client.post("/api/leaderboard-schedules/run-due", headers=_cron(deps))).json()["started"]
    assert [(entry["trigger"], entry["status"]) for entry in deferred] == [("cron", "deferred")]
    assert (await client.get(f"/api/leaderboards/{board}/runs", headers=auth)).json()["count"] == 0
    started = (await client.post("/api/leaderboard-schedules/run-due", headers=_cron(deps))).json()["started"]
    assert [(entry["trigger"], entry["status"], entry["due_at"]) for entry in started] == \
        [("cron", "started", deferred[0]["due_at"])]
    assert (await client.get(f"/api/leaderboards/{board}/runs", headers=auth)).json()["count"] == 1
