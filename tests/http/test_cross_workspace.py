"""Another workspace's ids look exactly like ids that do not exist, on every route."""

from __future__ import annotations

import uuid

import pytest

from functions.families import FAMILIES
from tests.factories import BODIES, own_model, push_leaderboard

# Every family's routes that name a resource, so a new route is covered without editing this file.
# `{provider}` names a kind of integration, not a resource: each workspace has its own namespace
# of them (tests/http/test_tokens_and_integrations.py checks that one is not another's).
ROUTES_WITH_IDS = [r for family in FAMILIES for r in family.routes
                   if r.path_params and r.auth in ("api_token", "push", "session") and "provider" not in r.path_params]


async def headers_for(route, tenants, workspace: str) -> dict[str, str]:
    """The credential the route takes: a browser session for session routes, else an API token."""
    if route.auth == "session":
        return await tenants.session(workspace, "owner")
    return await tenants.headers(workspace)


@pytest.fixture
async def owned(client, tenants) -> dict[str, str]:
    """Workspace A's leaderboard, own model and candidate."""
    a = await tenants.headers("workspace-a")
    model = (await client.post("/api/models", json=own_model(), headers=a)).json()
    board = (await client.post("/api/leaderboards", json=push_leaderboard(), headers=a)).json()["leaderboard"]
    await client.post(f"/v1/leaderboard/{board['id']}/dataset/push", headers=a,
                      json={"id": "row-of-a", "input": "a row of workspace-a"})
    cand = (await client.post(f"/api/leaderboards/{board['id']}/models", headers=a,
                              json={"name": "ours", "model_id": model["id"]})).json()
    run = (await client.post(f"/api/leaderboards/{board['id']}/run", headers=a, json={})).json()
    token = (await client.post("/api/tokens", headers=await tenants.session("workspace-a"), json={"name": "ours"})).json()
    return {"leaderboard_id": board["id"], "model_id": model["id"], "leaderboard_model_id": cand["id"],
            "run_id": run["id"], "item_id": str(uuid.uuid4()), "token_id": token["id"],  # annotation items exist only in human runs
            "dataset_item_id": "row-of-a"}


def request_for(route, ids):
    path = route.path.format(**ids)
    return route.method, path, BODIES.get(route.body)


@pytest.mark.parametrize("route", ROUTES_WITH_IDS, ids=lambda r: f"{r.method} {r.path}")
async def test_b_gets_the_not_found_answer_for_a_resources(client, tenants, owned, route):
    b = await headers_for(route, tenants, "workspace-b")
    method, path, body = request_for(route, owned)
    foreign = await client.request(method, path, json=body, headers=b)
    missing_ids = {name: str(uuid.uuid4()) for name in owned}
    method, missing_path, body = request_for(route, missing_ids)
    missing = await client.request(method, missing_path, json=body, headers=b)
    assert foreign.status_code == missing.status_code == 404
    assert foreign.json()["error"] == missing.json()["error"] == "not_found"
    for value in owned.values():
        assert foreign.text.count(value) <= path.count(value) and "ours" not in foreign.text


async def test_b_lists_nothing_of_a_and_a_is_untouched(client, tenants, owned):
    b = await tenants.headers("workspace-b")
    for path in ("/api/leaderboards", "/api/models"):
        page = (await client.get(path, headers=b)).json()
        assert page["count"] == 0 and page["data"] == []
    b_session = await tenants.session("workspace-b")
    b_tokens = (await client.get("/api/tokens", headers=b_session)).json()["data"]
    assert b_tokens and all(t["id"] != owned["token_id"] and t["name"] != "ours" for t in b_tokens)
    assert [m["email"] for m in (await client.get("/api/invite-user", headers=b_session)).json()["members"]] \
        == ["owner@workspace-b.example"]
    for route in ROUTES_WITH_IDS:
        method, path, body = request_for(route, owned)
        await client.request(method, path, json=body, headers=b_session if route.auth == "session" else b)
    a = await tenants.headers("workspace-a")
    detail = (await client.get(f"/api/leaderboards/{owned['leaderboard_id']}", headers=a)).json()
    assert detail["leaderboard"]["description"] is None
    assert [m["id"] for m in detail["models"]] == [owned["leaderboard_model_id"]]
    assert (await client.get(f"/api/models/{owned['model_id']}", headers=a)).status_code == 200
    tokens = (await client.get("/api/tokens", headers=await tenants.session("workspace-a"))).json()["data"]
    assert [(t["id"], t["revoked_at"]) for t in tokens if t["name"] == "ours"] == [(owned["token_id"], None)]


PUSH_ROUTES = [r for family in FAMILIES for r in family.routes if r.auth == "push"]
READS = [r for family in FAMILIES for r in family.routes
         if r.method == "GET" and r.auth in ("api_token", "push", "session")]


@pytest.mark.parametrize("route", PUSH_ROUTES, ids=lambda r: f"{r.method} {r.path}")
async def test_bs_push_token_gets_the_not_found_answer_for_as_leaderboard(client, tenants, owned, route):
    b = await tenants.headers("workspace-b")
    b_board = (await client.post("/api/leaderboards", json=push_leaderboard(), headers=b)).json()["leaderboard"]
    push_token = (await client.post(f"/v1/leaderboard/{b_board['id']}/dataset/token", headers=b, json={})).json()
    headers = {"X-Dr.Gero-Push-Token": push_token["token"]}
    body = BODIES.get(route.body)
    foreign = await client.request(route.method, route.path.format(**owned), json=body, headers=headers)
    missing = await client.request(route.method, route.path.format(leaderboard_id=str(uuid.uuid4())),
                                   json=body, headers=headers)
    assert foreign.status_code == missing.status_code == 404
    assert foreign.json() == {**missing.json(), "message": foreign.json()["message"]} and owned["leaderboard_id"] \
        not in foreign.json()["message"]
    own = await client.request(route.method, route.path.format(leaderboard_id=b_board["id"]), json=body, headers=headers)
    assert own.status_code == 202  # the token works where it belongs


@pytest.mark.parametrize("route", READS, ids=lambda r: f"{r.method} {r.path}")
async def test_no_read_of_b_shows_anything_of_a(client, tenants, owned, route):
    """Every list, export, status and detail B can read, on B's own resources, is free of A."""
    a = await tenants.headers("workspace-a")
    await client.post(f"/v1/leaderboard/{owned['leaderboard_id']}/dataset/push", headers=a,
                      json={"input": "a secret of workspace-a"})
    await client.post(f"/v1/leaderboard/{owned['leaderboard_id']}/dataset/consolidate", headers=a)
    b = await headers_for(route, tenants, "workspace-b")
    api_b = await tenants.headers("workspace-b")
    board = (await client.post("/api/leaderboards", json=push_leaderboard(), headers=api_b)).json()["leaderboard"]
    await client.post(f"/v1/leaderboard/{board['id']}/dataset/push", headers=api_b, json={"input": "b's row"})
    await client.post(f"/v1/leaderboard/{board['id']}/dataset/consolidate", headers=api_b)
    model = (await client.post("/api/models", json=own_model(), headers=api_b)).json()
    run = (await client.post(f"/api/leaderboards/{board['id']}/run", headers=api_b, json={})).json()
    ids = {"leaderboard_id": board["id"], "model_id": model["id"], "run_id": run.get("id", str(uuid.uuid4())),
           "leaderboard_model_id": str(uuid.uuid4()), "item_id": str(uuid.uuid4()), "token_id": str(uuid.uuid4()),
           "dataset_item_id": "row-of-b"}
    answer = await client.get(route.path.format(**ids), headers=b)
    assert answer.status_code < 500
    for value in (*owned.values(), "a secret of workspace-a", "workspace-a", '"ours"'):
        assert value not in answer.text, (value, answer.text[:300])
