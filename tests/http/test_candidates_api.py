"""Resource API: candidate models of a leaderboard."""

from __future__ import annotations

import asyncio

import pytest

from tests.factories import openrouter_candidate, own_model, push_leaderboard
from tests.faults import HoldingFirstSave


@pytest.fixture
async def board(client, auth) -> str:
    response = await client.post("/api/leaderboards", json=push_leaderboard(), headers=auth)
    return response.json()["leaderboard"]["id"]


async def add(client, auth, board, body):
    return await client.post(f"/api/leaderboards/{board}/models", json=body, headers=auth)


async def test_an_openrouter_candidate_is_added_and_listed(client, auth, board):
    response = await add(client, auth, board, openrouter_candidate())
    assert response.status_code == 201, response.text
    added = response.json()
    assert added["platform"] == "OpenRouter" and added["model_url"] == "openai/gpt-oss-120b"
    listed = (await client.get(f"/api/leaderboards/{board}/models", headers=auth)).json()
    assert listed["count"] == 1 and listed["data"][0]["id"] == added["id"]
    detail = (await client.get(f"/api/leaderboards/{board}", headers=auth)).json()
    assert [m["id"] for m in detail["models"]] == [added["id"]]


async def test_tokens_are_sealed_and_returned_redacted(client, auth, board, deps):
    secret = "sk-or-v1-0123456789abcdef"
    added = (await add(client, auth, board, openrouter_candidate(token=secret))).json()
    assert added["token"] == "••••cdef" and added["has_token"] is True
    stored = (await deps.documents.get("leaderboard_models", added["id"])).data
    assert secret not in str(stored)
    assert deps.sealer.open(stored["token_sealed"]) == secret


async def test_aliases_name_the_same_fields(client, auth, board):
    body = {"model_name": "Custom box", "platform": "custom", "url": "https://llm.example.com/v1",
            "auth_type": "custom-header", "authHeaderName": "X-Box-Key", "token": "abc"}
    added = (await add(client, auth, board, body)).json()
    assert (added["name"], added["platform"], added["model_url"]) == ("Custom box", "Custom", "https://llm.example.com/v1")
    assert added["auth_header_name"] == "X-Box-Key"


@pytest.mark.parametrize("body, field", [
    ({"name": "x", "platform": "OpenRouter"}, "model_url"),
    ({"name": "x"}, "model_id"),
    ({"name": "x", "platform": "Custom", "model_url": "https://x.example", "auth_type": "custom-header"},
     "auth_header_name"),
    ({"name": "x", "platform": "Custom", "model_url": "http://127.0.0.1:9/v1"}, "model_url"),
    ({"name": "x", "platform": "Custom", "model_url": "http://169.254.169.254/latest"}, "model_url"),
    ({"name": "x", "platform": "Custom", "model_url": "file:///etc/passwd"}, "model_url"),
    ({"name": "x", "platform": "Azure", "model_url": "a/b"}, "platform"),
    ({"name": "x", "platform": "OpenRouter", "model_url": "a/b", "auth_type": "cookie"}, "auth_type"),
    ({"platform": "OpenRouter", "model_url": "a/b"}, "name"),
])
async def test_invalid_candidates_are_refused(client, auth, board, body, field):
    response = await add(client, auth, board, body)
    assert response.status_code == 422
    assert any(field in d["field"] for d in response.json()["details"]), response.json()


async def test_dr_gero_candidates_must_name_an_own_model(client, auth, board, tenants):
    model = (await client.post("/api/models", json=own_model(), headers=auth)).json()
    added = await add(client, auth, board, {"name": "ours", "model_id": model["id"]})
    assert added.status_code == 201 and added.json()["platform"] == "Dr.Gero"
    other = await tenants.headers("other-co")
    foreign = (await client.post("/api/models", json=own_model(), headers=other)).json()
    refused = await add(client, auth, board, {"name": "theirs", "model_id": foreign["id"]})
    assert refused.status_code == 422 and refused.json()["details"][0]["field"] == "model_id"


async def test_the_same_model_twice_is_a_conflict(client, auth, board):
    assert (await add(client, auth, board, openrouter_candidate())).status_code == 201
    again = await add(client, auth, board, openrouter_candidate(name="again"))
    assert again.status_code == 409 and again.json()["error"] == "duplicate_candidate"


async def test_free_plan_allows_three_candidates(client, tenants):
    free = await tenants.headers("free-co", plan="free")
    board = (await client.post("/api/leaderboards", json=push_leaderboard(), headers=free)).json()["leaderboard"]["id"]
    for n in range(3):
        assert (await add(client, free, board, openrouter_candidate(model_url=f"v/m{n}"))).status_code == 201
    fourth = await add(client, free, board, openrouter_candidate(model_url="v/m4"))
    assert fourth.status_code == 403 and fourth.json()["error"] == "entitlement_required"


async def test_removing_the_chosen_candidate_clears_the_choice(client, auth, board):
    cid = (await add(client, auth, board, openrouter_candidate())).json()["id"]
    await client.patch(f"/api/leaderboards/{board}", headers=auth, json={"chosen_leaderboard_model_id": cid})
    response = await client.delete(f"/api/leaderboards/{board}/models/{cid}", headers=auth)
    assert response.status_code == 200 and response.json() == {"id": cid, "deleted": True}
    detail = (await client.get(f"/api/leaderboards/{board}", headers=auth)).json()
    assert detail["leaderboard"]["chosen_leaderboard_model_id"] is None and detail["models"] == []
    again = await client.delete(f"/api/leaderboards/{board}/models/{cid}", headers=auth)
    assert again.status_code == 404


async def test_a_candidate_is_only_found_under_its_own_leaderboard(client, auth, board):
    other = (await client.post("/api/leaderboards", json=push_leaderboard(name="b"), headers=auth)).json()
    cid = (await add(client, auth, board, openrouter_candidate())).json()["id"]
    wrong = await client.delete(f"/api/leaderboards/{other['leaderboard']['id']}/models/{cid}", headers=auth)
    assert wrong.status_code == 404


# --- changing a candidate ---------------------------------------------------------------------------

async def change(client, auth, board, candidate_id, body):
    return await client.patch(f"/api/leaderboards/{board}/models/{candidate_id}", json=body, headers=auth)


async def test_a_candidate_is_renamed_and_pointed_at_another_model(client, auth, board):
    cid = (await add(client, auth, board, openrouter_candidate())).json()["id"]
    response = await change(client, auth, board, cid, {"name": "Renamed", "url": "openai/gpt-oss-20b"})
    assert response.status_code == 200, response.text
    changed = response.json()
    assert (changed["id"], changed["name"], changed["model_url"]) == (cid, "Renamed", "openai/gpt-oss-20b")
    assert changed["platform"] == "OpenRouter"
    listed = (await client.get(f"/api/leaderboards/{board}/models", headers=auth)).json()["data"]
    assert [(m["name"], m["model_url"]) for m in listed] == [("Renamed", "openai/gpt-oss-20b")]


async def test_a_new_token_is_sealed_and_null_removes_it(client, auth, board, deps):
    cid = (await add(client, auth, board, openrouter_candidate(token="sk-or-old-00000000"))).json()["id"]
    new = "sk-or-new-00001234"
    replaced = (await change(client, auth, board, cid, {"token": new})).json()
    assert (replaced["token"], replaced["has_token"]) == ("••••1234", True)
    stored = (await deps.documents.get("leaderboard_models", cid)).data
    assert new not in str(stored) and deps.sealer.open(stored["token_sealed"]) == new
    removed = (await change(client, auth, board, cid, {"token": None})).json()
    assert (removed["token"], removed["has_token"]) == (None, False)
    assert (await deps.documents.get("leaderboard_models", cid)).data["token_sealed"] is None


async def test_a_custom_candidate_changes_how_it_sends_its_key(client, auth, board):
    custom = {"name": "box", "platform": "Custom", "model_url": "https://llm.example.com/v1"}
    cid = (await add(client, auth, board, custom)).json()["id"]
    changed = (await change(client, auth, board, cid, {"authType": "custom-header", "authHeaderName": "X-Box-Key"}))
    assert changed.status_code == 200, changed.text
    assert (changed.json()["auth_type"], changed.json()["auth_header_name"]) == ("custom-header", "X-Box-Key")
    dropped = await change(client, auth, board, cid, {"auth_header_name": None})
    assert dropped.status_code == 422 and dropped.json()["details"][0]["field"] == "auth_header_name"


@pytest.mark.parametrize("body, field", [
    ({"auth_type": "custom-header"}, "auth_header_name"),
    ({"model_url": "http://127.0.0.1:9/v1"}, "model_url"),
    ({"model_url": "http://169.254.169.254/latest"}, "model_url"),
    ({"model_url": "file:///etc/passwd"}, "model_url"),
    ({"model_url": None}, "model_url"),
    ({"name": None}, "name"),
    ({"name": ""}, "name"),
    ({"auth_type": "cookie"}, "auth_type"),
    ({"platform": "OpenRouter"}, "platform"),
    ({"model_id": "4f6d1c9e-0000-4000-8000-000000000000"}, "model_id"),
    ({"leaderboard_id": "4f6d1c9e-0000-4000-8000-000000000000"}, "leaderboard_id"),
])
async def test_changes_are_validated_like_a_new_candidate(client, auth, board, body, field):
    custom = {"name": "box", "platform": "Custom", "model_url": "https://llm.example.com/v1"}
    cid = (await add(client, auth, board, custom)).json()["id"]
    response = await change(client, auth, board, cid, body)
    assert response.status_code == 422, response.text
    assert any(field in d["field"] for d in response.json()["details"]), response.json()
    unchanged = (await client.get(f"/api/leaderboards/{board}/models", headers=auth)).json()["data"][0]
    assert (unchanged["name"], unchanged["model_url"], unchanged["auth_type"]) == ("box", custom["model_url"], "bearer")


async def test_a_model_id_with_spaces_is_refused(client, auth, board):
    cid = (await add(client, auth, board, openrouter_candidate())).json()["id"]
    response = await change(client, auth, board, cid, {"model_url": "openai/gpt oss"})
    assert response.status_code == 422 and response.json()["details"][0]["field"] == "model_url"


async def test_pointing_a_candidate_at_another_candidates_model_is_a_conflict(client, auth, board):
    await add(client, auth, board, openrouter_candidate())
    cid = (await add(client, auth, board, openrouter_candidate(model_url="vendor/other"))).json()["id"]
    clash = await change(client, auth, board, cid, {"model_url": "openai/gpt-oss-120b"})
    assert clash.status_code == 409 and clash.json()["error"] == "duplicate_candidate"
    its_own = await change(client, auth, board, cid, {"model_url": "vendor/other", "name": "kept"})
    assert its_own.status_code == 200 and its_own.json()["name"] == "kept"


async def test_a_dr_gero_candidate_keeps_its_model_and_takes_no_url(client, auth, board):
    model = (await client.post("/api/models", json=own_model(), headers=auth)).json()
    cid = (await add(client, auth, board, {"name": "ours", "model_id": model["id"]})).json()["id"]
    renamed = (await change(client, auth, board, cid, {"name": "ours, renamed"})).json()
    assert (renamed["name"], renamed["model_id"], renamed["model_url"]) == ("ours, renamed", model["id"], None)
    refused = await change(client, auth, board, cid, {"model_url": "https://llm.example.com/v1"})
    assert refused.status_code == 422 and refused.json()["details"][0]["field"] == "model_url"


async def test_a_candidate_is_only_changed_under_its_own_leaderboard(client, auth, board, tenants):
    other = (await client.post("/api/leaderboards", json=push_leaderboard(name="b"), headers=auth)).json()
    cid = (await add(client, auth, board, openrouter_candidate())).json()["id"]
    wrong_board = await change(client, auth, other["leaderboard"]["id"], cid, {"name": "moved"})
    assert wrong_board.status_code == 404
    stranger = await tenants.headers("other-co")
    assert (await change(client, stranger, board, cid, {"name": "stolen"})).status_code == 404
    reader = await tenants.headers("acme", scopes=("leaderboards:read",))
    assert (await change(client, reader, board, cid, {"name": "read only"})).status_code == 403
    listed = (await client.get(f"/api/leaderboards/{board}/models", headers=auth)).json()["data"]
    assert [m["name"] for m in listed] == [openrouter_candidate()["name"]]


async def test_two_changes_at_once_both_land(client, auth, board, deps):
    cid = (await add(client, auth, board, openrouter_candidate())).json()["id"]
    deps.documents = HoldingFirstSave(deps.documents, lambda collection: collection == "leaderboard_models")
    slow = asyncio.create_task(change(client, auth, board, cid, {"name": "renamed by the slow one"}))
    await asyncio.wait_for(deps.documents.held.wait(), 10)  # it read the candidate and is about to save
    fast = await change(client, auth, board, cid, {"token": "sk-fast-9999"})
    deps.documents.release.set()
    assert fast.status_code == 200 and (await slow).status_code == 200
    final = (await client.get(f"/api/leaderboards/{board}/models", headers=auth)).json()["data"][0]
    assert (final["name"], final["token"]) == ("renamed by the slow one", "••••9999")
