"""Auto-select reads the OpenRouter catalog, filters, ranks and adds candidates."""

from __future__ import annotations

import pytest

from shared.domain.model_selection import Constraints, Latency, eligible, rank
from tests.factories import OPENROUTER_CATALOG, openrouter_candidate, push_leaderboard
from tests.upstream import running_upstream


@pytest.fixture
def openrouter(deps):
    with running_upstream() as upstream:
        upstream.catalog.update(OPENROUTER_CATALOG)
        deps.settings.openrouter_base_url = upstream.model_url("echo")
        deps.settings.openrouter_api_key = "sk-or-deployment"
        yield upstream


async def _board(client, tenants, workspace="acme", plan="pro") -> tuple[str, dict, dict]:
    api = await tenants.headers(workspace, plan=plan)
    board = (await client.post("/api/leaderboards", headers=api, json=push_leaderboard())).json()["leaderboard"]
    return board["id"], api, await tenants.session(workspace, "member")


def url(board: str) -> str:
    return f"/api/leaderboards/{board}/models/auto-select"


async def test_picks_are_added_as_candidates_with_reasons_and_vendors_spread(client, tenants, openrouter):
    board, api, member = await _board(client, tenants)
    answer = await client.post(url(board), headers=member, json={"number_of_models": 4})
    assert answer.status_code == 200
    body = answer.json()
    picked = [pick["model"] for pick in body["data"]]
    assert body["count"] == 4 and len({model.split("/")[0] for model in picked}) == 4
    assert body["considered"] == len(OPENROUTER_CATALOG)
    assert body["excluded"] == {"no_text_output": 1, "variable_pricing": 1}
    assert [p["score"] for p in body["data"]] == sorted((p["score"] for p in body["data"]), reverse=True)
    first = body["data"][0]
    assert first["reasons"] and first["latency_source"] == "unknown"
    listed = (await client.get(f"/api/leaderboards/{board}/models", headers=api)).json()["data"]
    assert sorted((c["platform"], c["model_url"]) for c in listed) == sorted(("OpenRouter", m) for m in picked)
    assert {p["leaderboard_model"]["id"] for p in body["data"]} == {c["id"] for c in listed}
    again = (await client.post(url(board), headers=member, json={"number_of_models": 4})).json()
    assert not set(picked) & {p["model"] for p in again["data"]} and again["excluded"]["already_candidate"] == 4
    assert openrouter.calls["catalog"] == 1  # the second selection reused the cached catalog


async def test_price_and_openness_filter_with_camel_case_aliases(client, tenants, openrouter):
    board, _, member = await _board(client, tenants)
    body = (await client.post(url(board), headers=member, json={
        "numberOfModels": 10, "limitCost": True, "inputPricePerMTokens": 0.1, "outputPricePerMTokens": 0.5,
        "onlyOpenSource": True})).json()
    chosen = {pick["model"]: pick for pick in body["data"]}
    assert set(chosen) == {"meta-llama/llama-3.1-8b-instruct", "mistralai/mistral-small-3.2-24b-instruct",
                           "qwen/qwen3-32b"}
    assert chosen["qwen/qwen3-32b"]["input_price_per_m_tokens"] == pytest.approx(0.05)
    assert chosen["qwen/qwen3-32b"]["output_price_per_m_tokens"] == pytest.approx(0.2)
    assert all(pick["open_source"] for pick in body["data"])
    assert body["excluded"]["not_open_source"] == 2 and body["excluded"]["price"] == 2


async def test_latency_comes_from_the_workspaces_own_traces(client, tenants, openrouter):
    board, api, member = await _board(client, tenants)
    cand = (await client.post(f"/api/leaderboards/{board}/models", headers=api,
                              json=openrouter_candidate(model_url="openai/gpt-4o-mini"))).json()
    await client.patch(f"/api/leaderboards/{board}", headers=api, json={"chosen_leaderboard_model_id": cand["id"]})
    for n in range(5):
        assert (await client.post(f"/v1/leaderboard/{board}/inference", headers=api, json={"input": f"q{n}"})
                ).status_code == 200
    other, _, _ = await _board(client, tenants)
    loose = (await client.post(url(other), headers=member, json={"number_of_models": 20})).json()
    measured = {p["model"]: p for p in loose["data"] if p["latency_source"] == "traces"}
    assert list(measured) == ["openai/gpt-4o-mini"]
    assert 0 < measured["openai/gpt-4o-mini"]["latency_p95_seconds"] <= measured["openai/gpt-4o-mini"]["latency_p99_seconds"]

    third, _, _ = await _board(client, tenants)
    strict = (await client.post(url(third), headers=member, json={
        "number_of_models": 20, "limit_latency": True, "latency_p95_seconds": 0.000001})).json()
    assert strict["excluded"]["latency"] == 1
    assert "openai/gpt-4o-mini" not in {p["model"] for p in strict["data"]}
    assert all("latency not measured yet" in " ".join(p["reasons"]) for p in strict["data"])


async def test_constraints_nothing_satisfies_give_an_empty_answer_saying_why(client, tenants, openrouter):
    board, api, member = await _board(client, tenants)
    answer = await client.post(url(board), headers=member, json={
        "limit_cost": True, "input_price_per_m_tokens": 0, "output_price_per_m_tokens": 0})
    body = answer.json()
    assert answer.status_code == 200 and body["data"] == [] and body["count"] == 0
    assert "No model of 9 satisfies the constraints" in body["message"] and "over the price limit" in body["message"]
    assert (await client.get(f"/api/leaderboards/{board}/models", headers=api)).json()["count"] == 0


async def test_the_free_plan_limit_is_respected(client, tenants, openrouter):
    board, api, member = await _board(client, tenants, "small-team", plan="free")
    await client.post(f"/api/leaderboards/{board}/models", headers=api, json=openrouter_candidate())
    body = (await client.post(url(board), headers=member, json={"number_of_models": 5})).json()
    assert body["count"] == 2 and "free plan" in body["message"]
    full = (await client.post(url(board), headers=member, json={"number_of_models": 1})).json()
    assert full["count"] == 0 and "0 of the 1" in full["message"]
    assert (await client.get(f"/api/leaderboards/{board}/models", headers=api)).json()["count"] == 3


async def test_bad_input_and_a_catalog_outage(client, deps, tenants, openrouter):
    board, _, member = await _board(client, tenants)
    for body in ({"number_of_models": 0}, {"number_of_models": 21}, {"latency_p95_seconds": -1},
                 {"limit_cost": "sometimes"}, {"surprise": 1}):
        assert (await client.post(url(board), headers=member, json=body)).status_code == 422, body
    assert (await client.post(url("4f6d1c9e-0000-4000-8000-000000000000"), headers=member, json={})).status_code == 404
    api = await tenants.headers("acme")
    refused = await client.post(url(board), headers=api, json={})
    assert refused.status_code == 401  # a session endpoint: API tokens are not sessions
    deps.settings.openrouter_base_url = "http://127.0.0.1:9/api/v1"
    down = await client.post(url(board), headers=member)
    assert down.status_code == 502 and down.json()["error"] == "provider_unavailable"


def test_the_prior_prefers_recent_higher_tier_models_and_spreads_vendors():
    catalog = {
        "a/new-pricey": {"id": "a/new-pricey", "created": 300, "context_length": 100,
                         "pricing": {"prompt": "0.000001", "completion": "0.000004"}},
        "a/new-cheap": {"id": "a/new-cheap", "created": 290, "context_length": 100,
                        "pricing": {"prompt": "0.0000001", "completion": "0.0000004"}},
        "b/old-cheap": {"id": "b/old-cheap", "created": 100, "context_length": 100,
                        "pricing": {"prompt": "0.0000001", "completion": "0.0000004"}},
    }
    constraints = Constraints(number_of_models=2)
    kept, excluded = eligible(catalog, constraints, {}, set())
    order = [pick.model_id for pick in rank(kept, constraints)]
    assert order == ["a/new-pricey", "b/old-cheap", "a/new-cheap"]  # b before a's second model
    fast = {"b/old-cheap": Latency(0.2, 0.3, 50)}
    slow = {"b/old-cheap": Latency(5.0, 9.0, 50)}
    limit = Constraints(limit_latency=True, latency_p95_seconds=1.0)
    assert [p.model_id for p in eligible(catalog, limit, fast, set())[0]] == list(catalog)
    kept, excluded = eligible(catalog, limit, slow, set())
    assert "b/old-cheap" not in [p.model_id for p in kept] and excluded == {"latency": 1}
