"""Resource API: candidate models of a leaderboard."""

from __future__ import annotations

import pytest

from tests.factories import openrouter_candidate, own_model, push_leaderboard


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
