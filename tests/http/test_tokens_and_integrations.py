"""API tokens and provider integrations, managed from a browser session."""

from __future__ import annotations

import pytest

from shared.domain.leaderboard import Candidate
from shared.services.endpoints import candidate_endpoint
from shared.stores.workspaces import Integrations
from tests.factories import get_leaderboard, openrouter_candidate, push_leaderboard
from tests.upstream import running_upstream

GOOD_OR, GOOD_HF = "sk-or-v1-good-key-0123456789", "hf_good_token_abcdefgh"


@pytest.fixture
def providers(deps):
    """OpenRouter's key check and Hugging Face's whoami, as the local upstream answers them."""
    with running_upstream() as upstream:
        upstream.valid_keys |= {GOOD_OR, GOOD_HF}
        deps.settings.openrouter_base_url = upstream.model_url("echo")
        deps.settings.huggingface_base_url = upstream.url
        yield upstream


async def test_tokens_are_listed_without_secrets_and_revoked_at_once(client, tenants, clock):
    admin = await tenants.session("acme", "admin")
    created = await client.post("/api/tokens", headers=admin, json={"name": "ci", "scopes": ["leaderboards:read"]})
    assert created.status_code == 201
    token = created.json()["token"]
    assert token.startswith("drgero_") and token.startswith(created.json()["display_prefix"])
    bearer = {"Authorization": f"Bearer {token}"}
    assert (await client.get("/api/leaderboards", headers=bearer)).status_code == 200
    assert (await client.post("/api/leaderboards", headers=bearer, json=get_leaderboard())).status_code == 403

    listed = await client.get("/api/tokens", headers=admin)
    [entry] = listed.json()["data"]
    assert token not in listed.text and "token_hash" not in listed.text
    assert entry["last_used_at"] is not None and entry["revoked_at"] is None and entry["scopes"] == ["leaderboards:read"]

    revoked = await client.post(f"/api/tokens/{entry['id']}/revoke", headers=admin)
    assert revoked.json()["revoked_at"] is not None
    refused = await client.get("/api/leaderboards", headers=bearer)
    assert refused.status_code == 401 and refused.json()["error"] == "invalid_token"
    assert (await client.delete(f"/api/tokens/{entry['id']}", headers=admin)).json()["deleted"] is True
    assert (await client.post(f"/api/tokens/{entry['id']}/revoke", headers=admin)).status_code == 404
    assert (await client.get("/api/tokens", headers=admin)).json()["count"] == 0


async def test_removing_a_member_revokes_the_tokens_they_created_and_lists_show_the_creator(client, tenants):
    owner = await tenants.session("acme", "owner")
    admin = await tenants.session("acme", "admin", email="leaving@acme.example")
    theirs = (await client.post("/api/tokens", headers=admin, json={"name": "theirs"})).json()
    mine = (await client.post("/api/tokens", headers=owner, json={"name": "mine"})).json()
    listed = {t["name"]: t["created_by"] for t in (await client.get("/api/tokens", headers=owner)).json()["data"]}
    assert listed["theirs"] != listed["mine"] and listed["theirs"] and listed["mine"]
    removed = await client.request("DELETE", "/api/invite-user", headers=owner, json={"email": "leaving@acme.example"})
    assert removed.status_code == 200 and removed.json()["tokens_revoked"] == 1
    assert (await client.get("/api/leaderboards", headers={"Authorization": f"Bearer {theirs['token']}"})).status_code \
        == 401
    assert (await client.get("/api/leaderboards", headers={"Authorization": f"Bearer {mine['token']}"})).status_code \
        == 200


async def test_last_used_is_refreshed_at_most_once_a_minute(client, tenants, clock):
    admin = await tenants.session("acme", "admin")
    token = (await client.post("/api/tokens", headers=admin, json={"name": "x"})).json()["token"]
    bearer = {"Authorization": f"Bearer {token}"}

    async def last_used() -> str:
        await client.get("/api/leaderboards", headers=bearer)
        return (await client.get("/api/tokens", headers=admin)).json()["data"][0]["last_used_at"]

    first = await last_used()
    clock.advance(seconds=30)
    assert await last_used() == first
    clock.advance(seconds=31)
    assert await last_used() > first


async def test_token_bodies_are_checked(client, tenants):
    admin = await tenants.session("acme", "admin")
    full = (await client.post("/api/tokens", headers=admin, json={"name": "all"})).json()
    assert "inference" in full["scopes"] and "workspace:admin" not in full["scopes"]
    for body in ({"name": "x", "scopes": ["leaderboards:fly"]}, {"name": ""}, {"scopes": ["inference"]},
                 {"name": "x", "scopes": []}, {"name": "x", "scopes": "all"}):
        answer = await client.post("/api/tokens", headers=admin, json=body)
        assert answer.status_code == 422, body


async def test_validate_answers_valid_or_invalid_with_the_providers_reason(client, tenants, providers):
    admin = await tenants.session("acme", "admin")
    checks = [({"provider": "openrouter", "api_key": GOOD_OR}, True, {"usage": 1.25, "limit": 10}),
              ({"provider": "OpenRouter", "apiKey": "sk-or-v1-wrong"}, False, "User not found."),
              ({"provider": "huggingface", "token": GOOD_HF}, True, {"name": "ada", "role": "read"}),
              ({"provider": "huggingface", "api_key": "hf_wrong"}, False, "Invalid credentials in Authorization header")]
    for body, valid, expected in checks:
        answer = (await client.post("/api/integrations/validate", headers=admin, json=body)).json()
        assert answer["valid"] is valid, body
        if valid:
            assert expected.items() <= answer["account"].items()
        else:
            assert answer["reason"] == expected and answer["account"] is None
    assert (await client.get("/api/integrations", headers=admin)).json()["count"] == 0  # nothing stored
    unknown = await client.post("/api/integrations/validate", headers=admin, json={"provider": "acme", "api_key": "k"})
    assert unknown.status_code == 422


async def test_a_provider_that_is_down_or_hangs_gets_a_clear_502(client, deps, tenants, providers):
    admin = await tenants.session("acme", "admin")
    deps.settings.openrouter_base_url = "http://127.0.0.1:9/api/v1"  # nothing listens on the discard port
    down = await client.post("/api/integrations/validate", headers=admin, json={"provider": "openrouter", "api_key": "k"})
    assert down.status_code == 502 and down.json()["error"] == "provider_unavailable"
    deps.settings.openrouter_base_url = providers.model_url("slow")
    deps.settings.integration_timeout_seconds = 0.5
    hung = await client.post("/api/integrations/validate", headers=admin, json={"provider": "openrouter", "api_key": "k"})
    assert hung.status_code == 502 and "ReadTimeout" in hung.json()["message"]


async def test_a_stored_integration_is_sealed_redacted_and_used_by_candidates(client, deps, tenants, providers):
    admin = await tenants.session("acme", "admin")
    rejected = await client.put("/api/integrations/openrouter", headers=admin, json={"api_key": "sk-or-v1-wrong"})
    assert rejected.status_code == 422 and "User not found." in rejected.json()["message"]
    stored = await client.put("/api/integrations/openrouter", headers=admin, json={"api_key": GOOD_OR})
    assert stored.status_code == 200 and stored.json()["key_hint"] == "••••" + GOOD_OR[-4:]
    listed = await client.get("/api/integrations", headers=admin)
    assert GOOD_OR not in listed.text and listed.json()["data"][0]["account"]["limit"] == 10
    doc = await deps.documents.get(Integrations.collection, f"{tenants.ids['acme']}.openrouter")
    assert GOOD_OR not in str(doc.data) and deps.sealer.open(doc.data["key_sealed"]) == GOOD_OR
    unchecked = await client.put("/api/integrations/huggingface", headers=admin,
                                 json={"api_key": "hf_offline", "validate": False})
    assert unchecked.json()["validated"] is False

    # The same local server answers the model call: it must carry the workspace key.
    api = await tenants.headers("acme")
    board = (await client.post("/api/leaderboards", headers=api, json=push_leaderboard())).json()["leaderboard"]
    cand = (await client.post(f"/api/leaderboards/{board['id']}/models", headers=api,
                              json=openrouter_candidate(model_url="vendor/model"))).json()
    await client.patch(f"/api/leaderboards/{board['id']}", headers=api, json={"chosen_leaderboard_model_id": cand["id"]})
    answer = await client.post(f"/v1/leaderboard/{board['id']}/inference", headers=api, json={"input": "hi"})
    assert answer.status_code == 200
    assert providers.authorization["echo"] == f"Bearer {GOOD_OR}"  # the workspace key, not the deployment's

    deleted = await client.delete("/api/integrations/openrouter", headers=admin)
    assert deleted.json() == {"id": "openrouter", "deleted": True}
    assert (await client.delete("/api/integrations/openrouter", headers=admin)).status_code == 404
    assert (await client.put("/api/integrations/acme", headers=admin, json={"api_key": "k"})).status_code == 422
    candidate = Candidate(id="c", workspace_id=tenants.ids["acme"], leaderboard_id="l", name="hf", platform="HuggingFace",
                          model_url="org/m", created_at="")
    assert (await candidate_endpoint(deps, candidate)).headers["Authorization"] == "Bearer hf_offline"


async def test_another_workspaces_integration_is_neither_seen_nor_touched(client, deps, tenants, providers):
    a = await tenants.session("workspace-a", "owner")
    b = await tenants.session("workspace-b", "owner")
    await client.put("/api/integrations/openrouter", headers=a, json={"api_key": GOOD_OR})
    assert (await client.get("/api/integrations", headers=b)).json()["count"] == 0
    assert (await client.delete("/api/integrations/openrouter", headers=b)).status_code == 404
    assert (await client.get("/api/integrations", headers=a)).json()["count"] == 1
