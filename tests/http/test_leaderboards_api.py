"""Resource API: leaderboards, through the app exactly as a client sees it."""

from __future__ import annotations

import pytest

from shared.ports import Query
from tests.factories import HF_URL, get_leaderboard, push_leaderboard
from tests.purging import purge_until_gone


async def create(client, auth, body):
    response = await client.post("/api/leaderboards", json=body, headers=auth)
    assert response.status_code == 201, response.text
    return response.json()


async def test_a_get_leaderboard_is_created_with_its_challenge(client, auth):
    detail = await create(client, auth, get_leaderboard())
    board = detail["leaderboard"]
    assert board["dataset_type"] == "GET" and board["dataset_url"] == HF_URL
    assert detail["challenge"]["prompt"].endswith("{input}")
    assert detail["challenge"]["eval"] == {
        "type": "judge", "judge_provider": "OpenRouter", "judge_model": "openai/gpt-5.2", "judge_auto_decide": False,
    }
    assert detail["models"] == [] and detail["runs"] == []


async def test_push_leaderboards_keep_their_limits(client, auth):
    body = push_leaderboard(daily_event_limit=10, monthly_event_limit=100, consolidate_every_hours=6, dedupe=False)
    board = (await create(client, auth, body))["leaderboard"]
    assert (board["daily_event_limit"], board["monthly_event_limit"]) == (10, 100)
    assert board["consolidate_every_hours"] == 6 and board["dedupe"] is False
    assert board["dataset_url"] is None


async def test_camel_case_aliases_are_accepted(client, auth):
    body = {"name": "Camel", "modelPrompt": "Say {input}", "datasetType": "push", "evalType": "exact",
            "dailyEventLimit": 7}
    board = (await create(client, auth, body))["leaderboard"]
    assert board["model_prompt"] == "Say {input}" and board["dataset_type"] == "PUSH"
    assert board["daily_event_limit"] == 7


@pytest.mark.parametrize("body, field", [
    (get_leaderboard(dataset_url=None), "dataset_url"),
    (get_leaderboard(dataset_url="https://example.com/data.jsonl"), "dataset_url"),
    (get_leaderboard(dataset_url="https://huggingface.co/datasets/acme/x/resolve/main/data.csv"), "dataset_url"),
    (get_leaderboard(system_prompt=None), "system_prompt"),
    (get_leaderboard(judge_model=None, judge_auto_decide=False), "judge_model"),
    (push_leaderboard(daily_event_limit=10, monthly_event_limit=5), "daily_event_limit"),
    (get_leaderboard(eval_type="vibes"), "eval_type"),
    (get_leaderboard(name=""), "name"),
    (get_leaderboard(surprise=True), "surprise"),
    (push_leaderboard(max_samples_to_gather="many"), "max_samples_to_gather"),
])
async def test_invalid_leaderboards_are_refused_naming_the_field(client, auth, body, field):
    response = await client.post("/api/leaderboards", json=body, headers=auth)
    assert response.status_code == 422
    payload = response.json()
    assert payload["error"] == "validation_error"
    assert any(field in detail["field"] for detail in payload["details"]), payload


async def test_judge_auto_decide_needs_no_judge_model(client, auth):
    body = get_leaderboard(judge_provider=None, judge_model=None)
    detail = await create(client, auth, body)
    assert detail["challenge"]["eval"]["judge_auto_decide"] is True


async def test_blob_urls_are_stored_in_their_resolve_form(client, auth):
    url = HF_URL.replace("/resolve/", "/blob/")
    board = (await create(client, auth, get_leaderboard(dataset_url=url)))["leaderboard"]
    assert board["dataset_url"] == HF_URL


async def test_list_pages_newest_first_with_total_count(client, auth):
    for n in range(5):
        await create(client, auth, push_leaderboard(name=f"board {n}"))
    response = await client.get("/api/leaderboards?limit=2&offset=1", headers=auth)
    assert response.status_code == 200
    page = response.json()
    assert (page["count"], page["limit"], page["offset"]) == (5, 2, 1)
    assert [b["name"] for b in page["data"]] == ["board 3", "board 2"]


async def test_patch_changes_only_updatable_fields(client, auth):
    lid = (await create(client, auth, get_leaderboard()))["leaderboard"]["id"]
    response = await client.patch(f"/api/leaderboards/{lid}", headers=auth, json={
        "description": "Production support leaderboard", "chosen_model_strategy": "ranking_winner"})
    assert response.status_code == 200, response.text
    assert response.json()["leaderboard"]["description"] == "Production support leaderboard"
    refused = await client.patch(f"/api/leaderboards/{lid}", headers=auth, json={"workspace_id": "x"})
    assert refused.status_code == 422 and refused.json()["details"][0]["field"] == "workspace_id"


async def test_patch_revalidates_the_whole_leaderboard(client, auth):
    lid = (await create(client, auth, push_leaderboard()))["leaderboard"]["id"]
    response = await client.patch(f"/api/leaderboards/{lid}", headers=auth, json={"dataset_type": "GET"})
    assert response.status_code == 422 and response.json()["details"][0]["field"] == "dataset_url"
    response = await client.patch(f"/api/leaderboards/{lid}", headers=auth,
                                  json={"dataset_type": "GET", "dataset_url": HF_URL})
    assert response.status_code == 200


@pytest.mark.parametrize("wrap", [True, False], ids=["schedule-field", "bare-schedule-file"])
async def test_schedules_are_saved_wrapped_or_bare(client, auth, wrap):
    lid = (await create(client, auth, push_leaderboard()))["leaderboard"]["id"]
    schedule = {"version": 2, "triggers": {"cron": {"enabled": True, "preset": "CUSTOM", "expression": "0 6 * * 1"}},
                "dataset": {"mode": "LIMIT", "limit": {"auto": False, "rows": 5000, "algorithm": "LAST_N"}}}
    body = {"schedule": schedule} if wrap else schedule
    response = await client.patch(f"/api/leaderboards/{lid}", headers=auth, json=body)
    assert response.status_code == 200, response.text
    assert response.json()["leaderboard"]["schedule"] == schedule


async def test_chosen_model_must_be_a_candidate_of_the_leaderboard(client, auth):
    lid = (await create(client, auth, push_leaderboard()))["leaderboard"]["id"]
    other = (await create(client, auth, push_leaderboard(name="other")))["leaderboard"]["id"]
    cand = (await client.post(f"/api/leaderboards/{other}/models", headers=auth, json={
        "name": "m", "platform": "OpenRouter", "model_url": "openai/gpt-oss-120b"})).json()
    response = await client.patch(f"/api/leaderboards/{lid}", headers=auth,
                                  json={"chosen_leaderboard_model_id": cand["id"]})
    assert response.status_code == 422
    response = await client.patch(f"/api/leaderboards/{other}", headers=auth,
                                  json={"chosen_leaderboard_model_id": cand["id"], "chosen_model_strategy": "manual"})
    assert response.json()["leaderboard"]["chosen_leaderboard_model_id"] == cand["id"]


async def test_delete_hides_the_leaderboard_and_its_purge_removes_the_candidates(client, auth, deps, clock):
    lid = (await create(client, auth, push_leaderboard()))["leaderboard"]["id"]
    await client.post(f"/api/leaderboards/{lid}/models", headers=auth, json={
        "name": "m", "platform": "OpenRouter", "model_url": "openai/gpt-oss-120b"})
    response = await client.delete(f"/api/leaderboards/{lid}", headers=auth)
    assert response.status_code == 200 and response.json() == {"id": lid, "deleted": True}
    assert (await client.get(f"/api/leaderboards/{lid}", headers=auth)).status_code == 404
    await purge_until_gone(deps, clock, lid)
    assert await deps.documents.count(Query("leaderboard_models", where={"leaderboard_id": lid})) == 0


async def test_free_plan_cannot_delete_or_schedule(client, tenants):
    free = await tenants.headers("free-co", plan="free")
    lid = (await create(client, free, push_leaderboard()))["leaderboard"]["id"]
    response = await client.delete(f"/api/leaderboards/{lid}", headers=free)
    assert response.status_code == 403 and response.json()["error"] == "entitlement_required"
    schedule = {"version": 2, "triggers": {"cron": {"enabled": True, "preset": "DAILY"}}}
    response = await client.patch(f"/api/leaderboards/{lid}", headers=free, json={"schedule": schedule})
    assert response.status_code == 403 and response.json()["error"] == "entitlement_required"
    assert (await client.get(f"/api/leaderboards/{lid}", headers=free)).status_code == 200


async def test_a_free_workspace_can_clear_the_schedule_it_had_before_its_plan_changed(client, tenants, deps):
    free = await tenants.headers("downgraded-co", plan="pro")
    schedule = {"version": 2, "triggers": {"cron": {"enabled": True, "preset": "DAILY"}}}
    lid = (await create(client, free, push_leaderboard(schedule=schedule)))["leaderboard"]["id"]
    await deps.documents.update("workspaces", tenants.ids["downgraded-co"], {"plan": "free"})  # the plan lapsed
    cleared = await client.patch(f"/api/leaderboards/{lid}", headers=free, json={"schedule": None})
    assert cleared.status_code == 200, cleared.text
    board = cleared.json()["leaderboard"]
    assert (board["schedule"], board["schedule_next_due_at"]) == (None, None)
    again = await client.patch(f"/api/leaderboards/{lid}", headers=free, json={"schedule": schedule})
    assert again.status_code == 403 and again.json()["error"] == "entitlement_required"


async def test_judge_providers_are_read_in_any_spelling_and_stored_in_one(client, auth):
    body = get_leaderboard(judge_provider="openrouter", eval_metadata={"labeler_provider": "hugging-face",
                                                                       "labeler_model": "acme/labeler"})
    detail = await create(client, auth, body)
    assert detail["challenge"]["eval"]["judge_provider"] == "OpenRouter"
    assert detail["leaderboard"]["eval_metadata"]["labeler_provider"] == "HuggingFace"
    lid = detail["leaderboard"]["id"]
    patched = await client.patch(f"/api/leaderboards/{lid}", headers=auth, json={"judgeProvider": "CUSTOM"})
    assert patched.status_code == 200 and patched.json()["challenge"]["eval"]["judge_provider"] == "Custom"


@pytest.mark.parametrize("body, field", [
    ({"judge_provider": "Azure"}, "judge_provider"),
    ({"eval_metadata": {"judge_provider": "azure", "judge_model": "gpt"}}, "eval_metadata.judge_provider"),
    ({"eval_metadata": {"labeler_provider": "anthropic"}}, "eval_metadata.labeler_provider"),
    ({"judge_provider": 3}, "judge_provider"),
])
async def test_unknown_judge_providers_are_refused_naming_the_field(client, auth, body, field):
    created = await client.post("/api/leaderboards", json=get_leaderboard(**body), headers=auth)
    assert created.status_code == 422 and field in [d["field"] for d in created.json()["details"]], created.json()
    lid = (await create(client, auth, get_leaderboard()))["leaderboard"]["id"]
    patched = await client.patch(f"/api/leaderboards/{lid}", headers=auth, json=body)
    assert patched.status_code == 422 and field in [d["field"] for d in patched.json()["details"]], patched.json()
    detail = (await client.get(f"/api/leaderboards/{lid}", headers=auth)).json()
    assert detail["challenge"]["eval"]["judge_provider"] == "OpenRouter"
