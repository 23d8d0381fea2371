"""A deleted leaderboard is gone at once for every route and every periodic job; its purge comes after."""

from __future__ import annotations

import pytest

from functions.families import FAMILIES
from shared.http.authenticate import PUSH_TOKEN_HEADER
from tests.factories import BODIES, push_leaderboard
from tests.purging import purge_until_gone

# Every route that names a leaderboard, so a new one is covered without editing this file.
BOARD_ROUTES = [route for family in FAMILIES for route in family.routes if "leaderboard_id" in route.path_params]
HOURLY = {"version": 2, "triggers": {"cron": {"enabled": True, "preset": "HOURLY"}}}


def _cron(deps) -> dict[str, str]:
    return {"Authorization": f"Bearer {deps.settings.effective_cron_secret}"}


@pytest.fixture
async def deleted(world):
    """The world's PUSH leaderboard, with its own model as a second candidate, used once, then deleted."""
    board = world.ids["leaderboard_id"]
    await world.client.post(f"/api/leaderboards/{board}/models", headers=world.api,
                            json={"name": "ours", "model_id": world.ids["model_id"]})
    listed = (await world.client.get(f"/api/models/{world.ids['model_id']}/leaderboards", headers=world.api)).json()
    assert [entry["id"] for entry in listed["data"]] == [board]
    token = (await world.client.post(f"/v1/leaderboard/{board}/dataset/token", headers=world.api,
                                     json={"name": "hook"})).json()["token"]
    await world.client.patch(f"/api/leaderboards/{board}", headers=world.api,
                             json={"chosen_leaderboard_model_id": world.ids["leaderboard_model_id"]})
    answered = await world.client.post(f"/v1/leaderboard/{board}/inference", headers=world.api, json={"input": "hi"})
    assert answered.status_code == 200, answered.text  # so the 404s below are the deletion's doing
    response = await world.client.delete(f"/api/leaderboards/{board}", headers=world.api)
    assert response.status_code == 200 and response.json() == {"id": board, "deleted": True}
    world.ids["push_token"] = token
    return world


@pytest.mark.parametrize("route", BOARD_ROUTES, ids=lambda r: f"{r.method} {r.path}")
async def test_every_route_of_a_deleted_leaderboard_answers_404_from_the_moment_delete_answers(deleted, route):
    answer = await deleted.call(route, json_body=BODIES.get(route.body))
    assert answer.status_code == 404, answer.text
    assert answer.json()["error"] == "not_found"


async def test_its_push_tokens_push_nowhere(deleted):
    board = deleted.ids["leaderboard_id"]
    pushed = await deleted.client.post(f"/v1/leaderboard/{board}/dataset/push",
                                       headers={PUSH_TOKEN_HEADER: deleted.ids["push_token"]}, json={"input": "late"})
    assert pushed.status_code == 404


async def test_lists_leave_it_out_at_once(deleted):
    page = (await deleted.client.get("/api/leaderboards", headers=deleted.api)).json()
    assert [board["id"] for board in page["data"]] == [deleted.boards["get"]] and page["count"] == 1
    model = deleted.ids["model_id"]
    assert (await deleted.client.get(f"/api/models/{model}/leaderboards", headers=deleted.api)).json()["data"] == []


async def test_deleting_twice_is_404(deleted):
    again = await deleted.client.delete(f"/api/leaderboards/{deleted.ids['leaderboard_id']}", headers=deleted.api)
    assert again.status_code == 404


async def test_periodic_jobs_pass_a_deleted_leaderboard_by(client, auth, deps, clock):
    board = (await client.post("/api/leaderboards", headers=auth, json=push_leaderboard(
        consolidate_every_events=1, schedule=HOURLY))).json()["leaderboard"]["id"]
    await client.post(f"/api/leaderboards/{board}/models", headers=auth,
                      json={"name": "m", "platform": "OpenRouter", "model_url": "vendor/m"})
    run = (await client.post(f"/api/leaderboards/{board}/run", headers=auth, json={})).json()["id"]
    await client.post(f"/v1/leaderboard/{board}/dataset/push", headers=auth, json={"input": "pending"})
    assert (await client.delete(f"/api/leaderboards/{board}", headers=auth)).status_code == 200
    clock.advance(hours=3)  # the schedule is due, the rows are old, the run looks stuck
    for path, key in (("/api/push-datasets/consolidate-due", "consolidated"),
                      ("/api/leaderboard-schedules/run-due", "started"),
                      ("/api/leaderboard-runs/reap-stale", "reaped")):
        answer = await client.post(path, headers=_cron(deps))
        assert answer.status_code == 200 and answer.json() == {key: []}, (path, answer.text)
    assert (await deps.documents.get("runs", run)).data["status"] == "queued"  # left for the purge to remove
    await purge_until_gone(deps, clock, board)
    assert await deps.documents.get("runs", run) is None


async def test_the_purge_deleted_job_answers_what_it_queued_again(client, auth, deps, clock):
    board = (await client.post("/api/leaderboards", headers=auth, json=push_leaderboard())).json()["leaderboard"]["id"]
    await client.delete(f"/api/leaderboards/{board}", headers=auth)
    url = "/api/leaderboard-purges/resume-stalled"
    assert (await client.post(url, headers={"Authorization": "Bearer nope"})).status_code == 401
    assert (await client.post(url, headers=_cron(deps))).json() == {"purges": []}  # its first pass is queued
    clock.advance(minutes=20)  # and never ran: this process has no worker running the queue
    assert (await client.post(url, headers=_cron(deps))).json() == {
        "purges": [{"leaderboard_id": board, "action": "requeued"}]}
