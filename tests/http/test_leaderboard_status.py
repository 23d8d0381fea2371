"""What `status` means: paused stops what is automatic, archived makes the leaderboard read-only."""

from __future__ import annotations

import pytest

from shared.http.authenticate import PUSH_TOKEN_HEADER
from tests.conftest import make_settings
from tests.factories import push_leaderboard
from tests.upstream import running_upstream

HOURLY = {"version": 2, "triggers": {"cron": {"enabled": True, "preset": "HOURLY"}}}


@pytest.fixture
def settings(tmp_path):
    return make_settings(tmp_path, allow_private_urls=True)


@pytest.fixture(scope="module")
def upstream():
    with running_upstream() as server:
        yield server


def _cron(deps) -> dict[str, str]:
    return {"Authorization": f"Bearer {deps.settings.effective_cron_secret}"}


async def _board(client, auth, upstream, **settings) -> str:
    """A PUSH leaderboard with one consolidated row and an echoing candidate as its chosen model."""
    board = (await client.post("/api/leaderboards", headers=auth, json=push_leaderboard(**settings))).json()
    board = board["leaderboard"]["id"]
    candidate = (await client.post(f"/api/leaderboards/{board}/models", headers=auth, json={
        "name": "echo", "platform": "Custom", "model_url": upstream.model_url("echo")})).json()["id"]
    await client.patch(f"/api/leaderboards/{board}", headers=auth, json={"chosen_leaderboard_model_id": candidate})
    await client.post(f"/v1/leaderboard/{board}/dataset/push", headers=auth, json={"input": "a", "expected": "a"})
    await client.post(f"/v1/leaderboard/{board}/dataset/consolidate", headers=auth)
    return board


async def _set_status(client, auth, board: str, status: str) -> None:
    response = await client.patch(f"/api/leaderboards/{board}", headers=auth, json={"status": status})
    assert response.status_code == 200 and response.json()["leaderboard"]["status"] == status, response.text


def _archived(response) -> bool:
    return response.status_code == 409 and response.json()["error"] == "leaderboard_archived"


async def test_an_archived_leaderboard_refuses_pushes_runs_schedules_and_inference(client, auth, upstream):
    board = await _board(client, auth, upstream)
    hook = (await client.post(f"/v1/leaderboard/{board}/dataset/token", headers=auth, json={})).json()["token"]
    await _set_status(client, auth, board, "archived")
    refused = {
        "push": await client.post(f"/v1/leaderboard/{board}/dataset/push", headers=auth, json={"input": "b"}),
        "push alias": await client.post(f"/api/leaderboards/{board}/dataset/push", headers=auth, json={"input": "b"}),
        "push token": await client.post(f"/v1/leaderboard/{board}/dataset/push", headers={PUSH_TOKEN_HEADER: hook},
                                        json={"input": "b"}),
        "run": await client.post(f"/api/leaderboards/{board}/run", headers=auth, json={}),
        "improve-dataset": await client.post(f"/api/leaderboards/{board}/improve-dataset", headers=auth, json={}),
        "auto-labels": await client.post(f"/v1/leaderboard/{board}/dataset/auto-labels", headers=auth),
        "schedule": await client.patch(f"/api/leaderboards/{board}", headers=auth, json={"schedule": HOURLY}),
        "inference": await client.post(f"/v1/leaderboard/{board}/inference", headers=auth, json={"input": "hi"}),
        "chat": await client.post(f"/v1/leaderboard/{board}/chat/completions", headers=auth,
                                  json={"messages": [{"role": "user", "content": "hi"}]}),
    }
    assert {name: response.status_code for name, response in refused.items() if not _archived(response)} == {}
    assert "PATCH its status to active" in refused["run"].json()["message"]
    status = (await client.get(f"/v1/leaderboard/{board}/dataset/status", headers=auth)).json()
    assert status["pending_events"] == 0 and status["consolidated_rows"] == 1  # nothing got in
    assert (await client.get(f"/api/leaderboards/{board}/runs", headers=auth)).json()["count"] == 0


async def test_an_archived_leaderboard_stays_readable(client, auth, upstream):
    board = await _board(client, auth, upstream)
    await client.post(f"/v1/leaderboard/{board}/inference", headers=auth, json={"input": "hi"})
    await _set_status(client, auth, board, "archived")
    for path in (f"/api/leaderboards/{board}", f"/api/leaderboards/{board}/runs", f"/v1/leaderboard/{board}/dataset",
                 f"/v1/leaderboard/{board}/dataset/status", f"/v1/leaderboard/{board}/traces"):
        assert (await client.get(path, headers=auth)).status_code == 200, path
    assert (await client.delete(f"/v1/leaderboard/{board}/dataset/tokens", headers=auth)).status_code == 200


async def test_an_archived_leaderboard_may_only_be_renamed_described_or_unarchived(client, auth, upstream):
    board = await _board(client, auth, upstream)
    await _set_status(client, auth, board, "archived")
    frozen = await client.patch(f"/api/leaderboards/{board}", headers=auth,
                                json={"system_prompt": "{input}!", "name": "renamed", "daily_event_limit": 10})
    assert _archived(frozen)
    assert frozen.json()["details"] == [{"field": "daily_event_limit"}, {"field": "system_prompt"}]
    described = await client.patch(f"/api/leaderboards/{board}", headers=auth,
                                   json={"name": "Old support", "description": "kept for the record", "category": "qa"})
    assert described.status_code == 200 and described.json()["leaderboard"]["name"] == "Old support"
    assert _archived(await client.patch(f"/api/leaderboards/{board}", headers=auth,
                                        json={"status": "active", "system_prompt": "{input}!"}))  # unarchive first
    await _set_status(client, auth, board, "active")
    pushed = await client.post(f"/v1/leaderboard/{board}/dataset/push", headers=auth, json={"input": "back"})
    assert pushed.status_code == 202
    changed = await client.patch(f"/api/leaderboards/{board}", headers=auth, json={"system_prompt": "{input}!"})
    assert changed.status_code == 200


async def test_a_paused_leaderboard_takes_pushes_but_consolidates_only_when_asked(client, auth, deps, upstream, clock):
    board = await _board(client, auth, upstream, consolidate_every_events=2, consolidate_every_hours=1)
    await _set_status(client, auth, board, "paused")
    pushed = await client.post(f"/v1/leaderboard/{board}/dataset/push", headers=auth,
                               json={"rows": [{"input": "b"}, {"input": "c"}]})
    assert pushed.status_code == 202 and pushed.json()["accepted_rows"] == 2
    assert deps.queue.state(f"consolidate-{board}-v1") is None  # the threshold queued nothing
    clock.advance(hours=2)  # past both thresholds
    due = await client.post("/api/push-datasets/consolidate-due", headers=_cron(deps))
    assert due.json() == {"consolidated": []}
    status = (await client.get(f"/v1/leaderboard/{board}/dataset/status", headers=auth)).json()
    assert status["pending_events"] == 2
    manual = await client.post(f"/v1/leaderboard/{board}/dataset/consolidate", headers=auth)
    assert manual.status_code == 200 and manual.json()["rows"] == 3


async def test_a_paused_leaderboard_still_runs_by_hand_and_answers_inference(client, auth, upstream):
    board = await _board(client, auth, upstream)
    await _set_status(client, auth, board, "paused")
    assert (await client.post(f"/api/leaderboards/{board}/run", headers=auth, json={})).status_code == 202
    answered = await client.post(f"/v1/leaderboard/{board}/inference", headers=auth, json={"input": "hi"})
    assert answered.status_code == 200 and answered.json()["output"] == "hi"


async def test_run_due_skips_a_paused_leaderboard_and_starts_it_again_once_active(client, auth, deps, upstream, clock):
    board = await _board(client, auth, upstream, schedule=HOURLY)
    await _set_status(client, auth, board, "paused")
    clock.advance(hours=1, minutes=1)
    [skipped] = (await client.post("/api/leaderboard-schedules/run-due", headers=_cron(deps))).json()["started"]
    assert (skipped["status"], skipped["run_id"], skipped["reason"]) == ("skipped", None, "The leaderboard is paused.")
    assert (await client.get(f"/api/leaderboards/{board}/runs", headers=auth)).json()["count"] == 0
    await _set_status(client, auth, board, "active")
    assert (await client.post("/api/leaderboard-schedules/run-due", headers=_cron(deps))).json() == {"started": []}
    clock.advance(hours=1)  # the slot it skipped is gone; the next one fires
    [started] = (await client.post("/api/leaderboard-schedules/run-due", headers=_cron(deps))).json()["started"]
    assert started["status"] == "started" and started["leaderboard_id"] == board


async def test_run_due_skips_an_archived_leaderboard(client, auth, deps, upstream, clock):
    board = await _board(client, auth, upstream, schedule=HOURLY)
    await _set_status(client, auth, board, "archived")
    clock.advance(hours=1, minutes=1)
    [skipped] = (await client.post("/api/leaderboard-schedules/run-due", headers=_cron(deps))).json()["started"]
    assert (skipped["status"], skipped["reason"]) == ("skipped", "The leaderboard is archived.")
