"""Resource API: own models and base models."""

from __future__ import annotations

from tests.factories import own_model, push_leaderboard


async def test_own_models_are_created_read_updated_and_listed(client, auth):
    created = await client.post("/api/models", json=own_model(description="first"), headers=auth)
    assert created.status_code == 201, created.text
    model = created.json()
    assert (model["status"], model["version"], model["endpoint_url"]) == ("draft", 0, None)
    patched = await client.patch(f"/api/models/{model['id']}", json={"description": "tuned on tickets"}, headers=auth)
    assert patched.json()["description"] == "tuned on tickets" and patched.json()["name"] == model["name"]
    got = (await client.get(f"/api/models/{model['id']}", headers=auth)).json()
    assert got["description"] == "tuned on tickets"
    page = (await client.get("/api/models?limit=10", headers=auth)).json()
    assert page["count"] == 1 and page["data"][0]["id"] == model["id"]


async def test_base_model_must_be_supported(client, auth):
    response = await client.post("/api/models", json=own_model(base_model="gpt-9"), headers=auth)
    assert response.status_code == 422 and response.json()["details"][0]["field"] == "base_model"
    listed = (await client.get("/api/base-models", headers=auth)).json()
    assert listed["source"] == "built-in"  # no fine-tuning backend answers in these tests
    assert listed["count"] == len(listed["data"]) > 0
    assert own_model()["base_model"] in {m["id"] for m in listed["data"]}


async def test_patch_refuses_fields_that_cannot_change(client, auth):
    model = (await client.post("/api/models", json=own_model(), headers=auth)).json()
    response = await client.patch(f"/api/models/{model['id']}", json={"status": "ready"}, headers=auth)
    assert response.status_code == 422


async def test_a_model_in_use_lists_its_leaderboards_and_cannot_be_deleted(client, auth):
    model = (await client.post("/api/models", json=own_model(), headers=auth)).json()
    board = (await client.post("/api/leaderboards", json=push_leaderboard(), headers=auth)).json()["leaderboard"]
    cid = (await client.post(f"/api/leaderboards/{board['id']}/models", headers=auth,
                             json={"name": "ours", "model_id": model["id"]})).json()["id"]
    uses = (await client.get(f"/api/models/{model['id']}/leaderboards", headers=auth)).json()
    assert uses["data"] == [{"id": board["id"], "name": board["name"], "leaderboard_model_id": cid}]
    refused = await client.delete(f"/api/models/{model['id']}", headers=auth)
    assert refused.status_code == 409 and refused.json()["error"] == "model_in_use"
    await client.delete(f"/api/leaderboards/{board['id']}/models/{cid}", headers=auth)
    assert (await client.delete(f"/api/models/{model['id']}", headers=auth)).status_code == 200
    assert (await client.get(f"/api/models/{model['id']}", headers=auth)).status_code == 404
