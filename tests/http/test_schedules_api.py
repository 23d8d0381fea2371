"""Schedule validation, the next due time, and run-due starting each due slot exactly once."""

from __future__ import annotations

import asyncio

import pytest

from shared.services import runs
from tests.factories import openrouter_candidate, push_leaderboard
from tests.upstream import running_upstream

CRON = {"version": 2, "triggers": {"cron": {"enabled": True, "preset": "CUSTOM", "expression": "0 6 * * 1"}}}


async def _scheduled(client, auth, schedule=CRON) -> str:
    board = (await client.post("/api/leaderboards", json=push_leaderboard(), headers=auth)).json()["leaderboard"]["id"]
    await client.post(f"/api/leaderboards/{board}/models", json=openrouter_candidate(), headers=auth)
    response = await client.patch(f"/api/leaderboards/{board}", headers=auth, json={"schedule": schedule})
    assert response.status_code == 200, response.text
    return board


@pytest.mark.parametrize("cron", [
    {"enabled": True, "preset": "CUSTOM", "expression": "61 * * * *"},
    {"enabled": True, "preset": "CUSTOM", "expression": "* * * *"},
    {"enabled": True, "preset": "CUSTOM"},
    {"enabled": True, "preset": "FORTNIGHTLY"},
    {"enabled": True, "preset": "DAILY", "timezone": "Mars/Olympus"},
])
async def test_bad_cron_triggers_are_422(client, auth, cron):
    board = (await client.post("/api/leaderboards", json=push_leaderboard(), headers=auth)).json()["leaderboard"]["id"]
    response = await client.patch(f"/api/leaderboards/{board}", headers=auth,
                                  json={"schedule": {"version": 2, "triggers": {"cron": cron}}})
    assert response.status_code == 422 and response.json()["error"] == "validation_error"


@pytest.mark.parametrize("bad", [{"new_data": {"enabled": True, "every_new_events": 0}},
                                 {"model_version": {"enabled": True, "cadence": "HOURLY"}}])
async def test_bad_counts_and_cadences_are_422(client, auth, bad):
    board = (await client.post("/api/leaderboards", json=push_leaderboard(), headers=auth)).json()["leaderboard"]["id"]
    response = await client.patch(f"/api/leaderboards/{board}", headers=auth,
                                  json={"schedule": {"version": 2, "triggers": bad}})
    assert response.status_code == 422


CAMEL = {"version": 2, "triggers": {
    "newData": {"enabled": True, "checkCadence": "WEEKLY", "everyNewEvents": 10},
    "modelVersion": {"enabled": True, "cadence": "MONTHLY"},
    "cron": {"enabled": True, "preset": "DAILY", "timezone": "Europe/Paris"}},
    "dataset": {"mode": "LIMIT", "limit": {"auto": False, "rows": 50, "algorithm": "RANDOM", "seed": 7}}}
SNAKE = {"version": 2, "triggers": {
    "new_data": {"enabled": True, "check_cadence": "WEEKLY", "every_new_events": 10},
    "model_version": {"enabled": True, "cadence": "MONTHLY"},
    "cron": {"enabled": True, "preset": "DAILY", "timezone": "Europe/Paris"}},
    "dataset": {"mode": "LIMIT", "limit": {"auto": False, "rows": 50, "algorithm": "RANDOM", "seed": 7}}}


@pytest.mark.parametrize("body", [{"schedule": CAMEL}, CAMEL, {"schedule": SNAKE}],
                         ids=["camel-case", "bare-camel-case-file", "snake-case"])
async def test_schedule_keys_are_read_in_either_case_and_stored_in_snake_case(client, auth, deps, body):
    board = (await client.post("/api/leaderboards", json=push_leaderboard(), headers=auth)).json()["leaderboard"]["id"]
    response = await client.patch(f"/api/leaderboards/{board}", headers=auth, json=body)
    assert response.status_code == 200, response.text
    assert response.json()["leaderboard"]["schedule"] == SNAKE
    stored = (await deps.documents.get("leaderboards", board)).data
    assert stored["schedule"] == SNAKE
    assert set(stored["schedule_due"]) == {"cron", "new_data", "model_version"}  # every trigger was understood


async def test_a_new_leaderboard_takes_a_camel_case_schedule(client, auth):
    created = await client.post("/api/leaderboards", json=push_leaderboard(schedule=CAMEL), headers=auth)
    assert created.status_code == 201, created.text
    assert created.json()["leaderboard"]["schedule"] == SNAKE
    assert created.json()["leaderboard"]["schedule_next_due_at"] is not None


async def test_the_detail_shows_when_the_cron_next_fires(client, auth, clock):
    board = await _scheduled(client, auth)  # clock: Saturday 2026-03-14 09:00 UTC
    detail = (await client.get(f"/api/leaderboards/{board}", headers=auth)).json()["leaderboard"]
    assert detail["schedule_next_due_at"] == "2026-03-16T06:00:00.000000Z"
    tz = {"version": 2, "triggers": {"cron": {"enabled": True, "preset": "DAILY", "timezone": "America/New_York"}}}
    await client.patch(f"/api/leaderboards/{board}", headers=auth, json={"schedule": tz})
    detail = (await client.get(f"/api/leaderboards/{board}", headers=auth)).json()["leaderboard"]
    assert detail["schedule_next_due_at"] == "2026-03-14T10:00:00.000000Z"  # 06:00 in New York (EDT)


async def test_run_due_starts_each_due_slot_once_even_when_calls_overlap(client, auth, deps, clock):
    board = await _scheduled(client, auth)
    url, cron = "/api/leaderboard-schedules/run-due", {"Authorization": f"Bearer {deps.settings.effective_cron_secret}"}
    assert (await client.post(url, headers={"Authorization": "Bearer nope"})).status_code == 401
    assert (await client.post(url, headers=cron)).json() == {"started": []}  # not due yet
    clock.advance(days=2)  # Monday 09:00, past the 06:00 slot
    first, second = await asyncio.gather(client.post(url, headers=cron), client.post(url, headers=cron))
    started = first.json()["started"] + second.json()["started"]
    assert [(s["leaderboard_id"], s["trigger"], s["status"]) for s in started] == [(board, "cron", "started")]
    runs = (await client.get(f"/api/leaderboards/{board}/runs", headers=auth)).json()["data"]
    assert [(r["run_source"], r["trigger"]) for r in runs] == [("schedule", "cron")]
    detail = (await client.get(f"/api/leaderboards/{board}", headers=auth)).json()["leaderboard"]
    assert detail["schedule_next_due_at"] == "2026-03-23T06:00:00.000000Z"
    assert (await client.post(url, headers=cron)).json() == {"started": []}


async def test_a_due_leaderboard_that_cannot_run_is_skipped_with_the_reason(client, auth, deps, clock):
    board = (await client.post("/api/leaderboards", json=push_leaderboard(), headers=auth)).json()["leaderboard"]["id"]
    await client.patch(f"/api/leaderboards/{board}", headers=auth, json={"schedule": CRON})
    clock.advance(days=2)
    cron = {"Authorization": f"Bearer {deps.settings.effective_cron_secret}"}
    [entry] = (await client.post("/api/leaderboard-schedules/run-due", headers=cron)).json()["started"]
    assert entry["status"] == "skipped" and "no candidate" in entry["reason"]


async def test_scheduled_runs_carry_the_schedules_dataset_limit(client, auth, deps, clock):
    limited = {**CRON, "dataset": {"mode": "LIMIT", "limit": {"auto": False, "rows": 50, "algorithm": "RANDOM",
                                                              "seed": 3}}}
    board = await _scheduled(client, auth, limited)
    clock.advance(days=2)
    cron = {"Authorization": f"Bearer {deps.settings.effective_cron_secret}"}
    [entry] = (await client.post("/api/leaderboard-schedules/run-due", headers=cron)).json()["started"]
    run = (await client.get(f"/api/leaderboards/{board}/runs/{entry['run_id']}", headers=auth)).json()
    assert run["dataset_limit"] == {"auto": False, "rows": 50, "algorithm": "RANDOM", "seed": 3}


async def test_new_data_fires_when_enough_rows_arrived_since_the_last_look(client, auth, deps, clock):
    board = await _scheduled(client, auth, {"version": 2, "triggers": {
        "new_data": {"enabled": True, "check_cadence": "DAILY", "every_new_events": 3}}})
    detail = (await client.get(f"/api/leaderboards/{board}", headers=auth)).json()["leaderboard"]
    assert detail["schedule_next_due_at"] == "2026-03-15T06:00:00.000000Z"
    url, cron = "/api/leaderboard-schedules/run-due", {"Authorization": f"Bearer {deps.settings.effective_cron_secret}"}

    async def look(rows: int) -> dict:
        if rows:
            await client.post(f"/v1/leaderboard/{board}/dataset/push", headers=auth,
                              json={"rows": [{"input": f"{clock.now()} {n}"} for n in range(rows)]})
        clock.advance(days=1)
        [entry] = (await client.post(url, headers=cron)).json()["started"]
        return entry

    waiting = await look(2)
    assert (waiting["trigger"], waiting["status"]) == ("new_data", "skipped") and "2 new rows" in waiting["reason"]
    assert (await look(1))["status"] == "started"  # 3 rows since the schedule was saved
    assert (await look(0))["status"] == "skipped"  # nothing new since that run
    runs = (await client.get(f"/api/leaderboards/{board}/runs", headers=auth)).json()["data"]
    assert [(r["run_source"], r["trigger"]) for r in runs] == [("schedule", "new_data")]


async def test_model_version_fires_when_the_catalog_shows_a_new_version(client, auth, deps, clock):
    with running_upstream() as openrouter:
        deps.settings.openrouter_base_url = openrouter.model_url("catalog")
        openrouter.catalog["openai/gpt-oss-120b"] = 1_760_000_000
        await _scheduled(client, auth, {"version": 2, "triggers": {
            "model_version": {"enabled": True, "cadence": "WEEKLY"}}})
        url, cron = "/api/leaderboard-schedules/run-due", {"Authorization": f"Bearer {deps.settings.effective_cron_secret}"}

        async def look() -> dict:
            clock.advance(days=7)
            [entry] = (await client.post(url, headers=cron)).json()["started"]
            return entry

        first = await look()  # the first look records the versions
        assert (first["trigger"], first["status"]) == ("model_version", "skipped")
        assert (await look())["status"] == "skipped"  # nothing changed
        openrouter.catalog["openai/gpt-oss-120b"] = 1_770_000_000
        assert (await look())["status"] == "started"
        assert (await look())["status"] == "skipped"


async def test_a_leaderboard_deleted_after_it_was_found_due_is_skipped(client, auth, deps, clock, monkeypatch):
    board = await _scheduled(client, auth)
    clock.advance(days=2)
    original = runs.start_run

    async def deleted_first(deps_, workspace_id, leaderboard_id, *args, **kwargs):
        await client.delete(f"/api/leaderboards/{leaderboard_id}", headers=auth)  # the race, made certain
        return await original(deps_, workspace_id, leaderboard_id, *args, **kwargs)

    monkeypatch.setattr(runs, "start_run", deleted_first)
    cron = {"Authorization": f"Bearer {deps.settings.effective_cron_secret}"}
    response = await client.post("/api/leaderboard-schedules/run-due", headers=cron)
    assert response.status_code == 200
    [entry] = response.json()["started"]
    assert (entry["leaderboard_id"], entry["status"]) == (board, "skipped") and "not found" in entry["reason"]
