"""Every error status /openapi.yaml documents for an operation is one a request can get.

The statuses every route of a kind shares (401 without credentials, 404 for unknown ids, 400,
413, 415 and 422 for bad bodies, 503 with the document store down, ...) are produced by
one generic request each; route-specific ones (409, 402, 502) by a recipe below. A route
that documents a status with neither fails here, so the document cannot promise statuses
the code never answers, and a new route brings its recipes.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

import pytest

from functions.families import FAMILIES
from shared.auth.scopes import ALL_SCOPES
from shared.auth.sessions import mint_dev_session
from shared.http.openapi import PATH_PARAMETERS, error_statuses
from shared.ports import Unavailable
from shared.providers.openai_fine_tuning import OpenAIFineTuner
from shared.schemas.common import ErrorBody
from shared.services.tasks import runner
from tests.factories import own_model, valid_body
from tests.fine_tuning_server import KEY, running_backend
from tests.http.conftest import World
from tests.http.test_runs_api import _capital_rows, _push_board

ROUTES = [route for family in FAMILIES for route in family.routes]
CASES = [(route, status) for route in ROUTES for status in error_statuses(route)]
DOWN = "http://127.0.0.1:9"  # nothing listens on the discard port


# --- the statuses routes share ------------------------------------------------------------------

async def _401(w: World, route):
    return await w.call(route, {}, json_body=valid_body(route))


async def _403(w: World, route):
    if route.auth == "session":
        if "workspace:admin" in route.scopes:
            return await w.call(route, await w.tenants.session("acme", "member"), json_body=valid_body(route))
        return await _no_workspace(w, route)
    others = tuple(scope for scope in ALL_SCOPES if scope not in route.scopes)
    return await w.call(route, await w.tenants.headers("acme", scopes=others), json_body=valid_body(route))


async def _no_workspace(w: World, route):
    token = mint_dev_session(w.deps.settings, "nobody@nowhere.example")
    return await w.call(route, {"Authorization": f"Bearer {token}"}, json_body=valid_body(route))


async def _404(w: World, route):
    unknown = {name: str(uuid.uuid4()) for name in route.path_params if name not in PATH_PARAMETERS}
    return await w.call(route, json_body=valid_body(route), **unknown)


async def _400(w: World, route):
    return await w.call(route, content=b'{"name": ', content_type="application/json")


async def _413(w: World, route):
    size = w.deps.settings.max_body_bytes + 1
    return await w.call(route, content=b'{"x": "' + b"a" * size + b'"}', content_type="application/json")


async def _415(w: World, route):
    return await w.call(route, content=b"name=x", content_type="text/plain")


async def _422(w: World, route):
    if route.body is not None:
        return await w.call(route, json_body="not an object")
    if route.query is not None:
        return await w.call(route, query="?limit=0")
    await w.tenants.session("second", "member", email="owner@acme.example")  # the owner joins a second one
    return await w.call(route, {"Authorization": w.owner["Authorization"]}, json_body=valid_body(route))


class _Down:
    def __getattr__(self, name):
        async def fail(*args, **kwargs):
            raise Unavailable("the document store is down")
        return fail


async def _503(w: World, route):
    kind = {"kind": "run_prepare"} if route.auth == "task" else {}
    body = {"run_id": w.ids["run_id"]} if route.auth == "task" else valid_body(route)
    w.deps.documents = _Down()
    return await w.call(route, json_body=body, **kind)


GENERIC: dict[int, Callable[[World, object], Awaitable[object]]] = {
    400: _400, 401: _401, 403: _403, 404: _404, 413: _413, 415: _415, 422: _422, 503: _503}


# --- route-specific statuses ---------------------------------------------------------------------

async def _on_get_board(w: World, route):
    """The dataset routes of a leaderboard that reads its dataset from a URL: 409."""
    return await w.call(route, json_body=valid_body(route) or {"input": "x"}, leaderboard_id=w.boards["get"])


async def _stale_item_version(w: World, route):
    """An item changed after the caller read its version: the If-Match no longer holds."""
    return await w.call(route, {**w.api, "If-Match": '"0123456789abcdef"'}, json_body=valid_body(route))


async def _no_chosen_model(w: World, route):
    return await w.call(route, json_body=valid_body(route))


async def _budget_spent(w: World, route):
    board = w.ids["leaderboard_id"]
    await w.client.patch(f"/api/leaderboards/{board}", headers=w.api, json={
        "chosen_leaderboard_model_id": w.ids["leaderboard_model_id"], "constraints": {"monthly_budget_usd": 0.00005}})
    await w.client.post(f"/v1/leaderboard/{board}/inference", headers=w.api, json={"input": "spend"})
    return await w.call(route, json_body=valid_body(route))


async def _provider_fails(w: World, route):
    await w.client.patch(f"/api/leaderboards/{w.ids['leaderboard_id']}", headers=w.api,
                         json={"chosen_leaderboard_model_id": w.ids["leaderboard_model_id"]})
    w.deps.settings.openrouter_base_url = w.upstream.model_url("fail")
    return await w.call(route, json_body=valid_body(route))


async def _openrouter_down(w: World, route):
    w.deps.settings.openrouter_base_url = f"{DOWN}/api/v1"
    body = {"provider": "openrouter", "api_key": "sk-or-x"} if route.body.__name__ == "IntegrationCheck" \
        else {"api_key": "sk-or-x"} if route.body.__name__ == "IntegrationPut" else {}
    return await w.call(route, w.owner, json_body=body)


async def _existing_member(w: World, route):
    return await w.call(route, w.owner, json_body={"email": "owner@acme.example"})


async def _last_owner(w: World, route):
    return await w.call(route, w.owner, json_body={"email": "owner@acme.example"})


async def _nobody_to_remove(w: World, route):
    return await w.call(route, w.owner, json_body={"email": "stranger@acme.example"})


async def _duplicate_candidate(w: World, route):
    return await w.call(route, json_body={"name": "again", "platform": "OpenRouter", "model_url": "vendor/echo"})


async def _changed_into_another_candidate(w: World, route):
    await w.client.post(f"/api/leaderboards/{w.ids['leaderboard_id']}/models", headers=w.api,
                        json={"name": "second", "platform": "OpenRouter", "model_url": "vendor/second"})
    return await w.call(route, json_body={"model_url": "vendor/second"})


async def _archived_then_changed(w: World, route):
    await w.call(route, json_body={"status": "archived"})
    return await w.call(route, json_body={"system_prompt": "{input}"})


async def _model_in_use(w: World, route):
    board = w.ids["leaderboard_id"]
    await w.client.post(f"/api/leaderboards/{board}/models", headers=w.api,
                        json={"name": "ours", "model_id": w.ids["model_id"]})
    return await w.call(route)


async def _no_candidates(w: World, route):
    return await w.call(route, json_body={}, leaderboard_id=w.boards["get"])


async def _run_finished(w: World, route):
    await w.call(route)
    return await w.call(route)


async def _annotations_closed(w: World, route):
    board = await _push_board(w.client, w.api, _capital_rows()[:1], eval_type="human")
    await w.client.post(f"/api/leaderboards/{board}/models", headers=w.api, json={
        "name": "echo", "platform": "OpenRouter", "model_url": "vendor/echo"})
    run = (await w.client.post(f"/api/leaderboards/{board}/run", headers=w.api, json={})).json()
    w.deps.queue.start(runner(w.deps))
    try:
        await w.deps.queue.drain(timeout=60)
    finally:
        await w.deps.queue.stop()
    items = (await w.client.get(f"/api/leaderboards/{board}/runs/{run['id']}/annotations", headers=w.api)).json()
    await w.client.post(f"/api/leaderboards/{board}/runs/{run['id']}/cancel", headers=w.api)
    return await w.call(route, json_body={"score": 1}, leaderboard_id=board, run_id=run["id"],
                        item_id=items["data"][0]["id"])


def _fine_tuner_down(w: World) -> None:
    w.deps.fine_tuner = OpenAIFineTuner(f"{DOWN}/v1", "k")


def _use_backend(w: World, backend) -> None:
    w.deps.fine_tuner = OpenAIFineTuner(backend.url, KEY)
    w.deps.settings.fine_tune_base_models = "*"  # it lists only the model it fine-tunes


async def _fine_tune_in_progress(w: World, route):
    with running_backend({own_model()["base_model"]}) as backend:
        _use_backend(w, backend)
        await w.call(route, json_body={"leaderboard_id": w.ids["leaderboard_id"]})
        return await w.call(route, json_body={"leaderboard_id": w.ids["leaderboard_id"]})


async def _fine_tune_backend_down(w: World, route):
    _fine_tuner_down(w)
    return await w.call(route, json_body={"leaderboard_id": w.ids["leaderboard_id"]})


async def _sync_backend_down(w: World, route):
    with running_backend({own_model()["base_model"]}) as backend:
        _use_backend(w, backend)
        await w.client.post(f"/api/models/{w.ids['model_id']}/fine-tune/run", headers=w.api,
                            json={"leaderboard_id": w.ids["leaderboard_id"]})
    _fine_tuner_down(w)
    return await w.call(route)


async def _last_owner_leaves(w: World, route):
    return await w.call(route)  # acme's only owner


V1, API = "/v1/leaderboard/{leaderboard_id}", "/api/leaderboards/{leaderboard_id}"
async def _no_days(w: World, route):
    return await w.call(route, query="?days=0")


RECIPES: dict[tuple[str, str, int], Callable[[World, object], Awaitable[object]]] = {
    ("GET", f"{V1}/quality", 422): _no_days,
    ("POST", f"{V1}/dataset/push", 409): _on_get_board,
    ("GET", f"{V1}/dataset/items", 409): _on_get_board,
    ("GET", f"{V1}/dataset/items/{{dataset_item_id}}", 409): _on_get_board,
    ("PATCH", f"{V1}/dataset/items/{{dataset_item_id}}", 409): _on_get_board,
    ("DELETE", f"{V1}/dataset/items/{{dataset_item_id}}", 409): _on_get_board,
    ("POST", f"{V1}/dataset/items/{{dataset_item_id}}/restore", 409): _on_get_board,
    ("PATCH", f"{V1}/dataset/items/{{dataset_item_id}}", 412): _stale_item_version,
    ("DELETE", f"{V1}/dataset/items/{{dataset_item_id}}", 412): _stale_item_version,
    ("POST", f"{V1}/dataset/items/{{dataset_item_id}}/restore", 412): _stale_item_version,
    ("POST", f"{API}/dataset/push", 409): _on_get_board,
    ("GET", f"{V1}/dataset/status", 409): _on_get_board,
    ("GET", f"{V1}/dataset", 409): _on_get_board,
    ("POST", f"{V1}/dataset/consolidate", 409): _on_get_board,
    ("POST", f"{V1}/dataset/token", 409): _on_get_board,
    ("DELETE", f"{V1}/dataset/tokens", 409): _on_get_board,
    ("POST", f"{V1}/dataset/auto-labels", 409): _on_get_board,
    ("POST", f"{V1}/inference", 409): _no_chosen_model,
    ("POST", f"{V1}/chat/completions", 409): _no_chosen_model,
    ("POST", f"{V1}/inference", 402): _budget_spent,
    ("POST", f"{V1}/chat/completions", 402): _budget_spent,
    ("POST", f"{V1}/inference", 502): _provider_fails,
    ("POST", f"{V1}/chat/completions", 502): _provider_fails,
    ("POST", "/api/integrations/validate", 502): _openrouter_down,
    ("PUT", "/api/integrations/{provider}", 502): _openrouter_down,
    ("POST", f"{API}/models/auto-select", 502): _openrouter_down,
    ("POST", "/api/invite-user", 409): _existing_member,
    ("DELETE", "/api/invite-user", 409): _last_owner,
    ("DELETE", "/api/invite-user", 404): _nobody_to_remove,
    ("POST", "/api/me/workspaces/{workspace_id}/leave", 409): _last_owner_leaves,
    ("PATCH", API, 409): _archived_then_changed,
    ("POST", f"{API}/models", 409): _duplicate_candidate,
    ("PATCH", f"{API}/models/{{leaderboard_model_id}}", 409): _changed_into_another_candidate,
    ("DELETE", "/api/models/{model_id}", 409): _model_in_use,
    ("POST", f"{API}/run", 409): _no_candidates,
    ("POST", f"{API}/improve-dataset", 409): _no_candidates,
    ("POST", f"{API}/runs/{{run_id}}/cancel", 409): _run_finished,
    ("POST", f"{API}/runs/{{run_id}}/annotations/{{item_id}}", 409): _annotations_closed,
    ("POST", "/api/models/{model_id}/fine-tune/run", 409): _fine_tune_in_progress,
    ("POST", "/api/models/{model_id}/fine-tune/run", 502): _fine_tune_backend_down,
    ("POST", "/api/models/{model_id}/fine-tune/sync", 502): _sync_backend_down,
}


@pytest.mark.parametrize("route, status", CASES, ids=[f"{r.method} {r.path} {s}" for r, s in CASES])
async def test_the_documented_status_is_reachable(world, route, status):
    produce = RECIPES.get((route.method, route.path, status)) or GENERIC.get(status)
    assert produce is not None, "documented without a way to reach it: add a recipe or stop documenting it"
    answer = await produce(world, route)
    assert answer.status_code == status, answer.text[:500]
    documented = dict(route.error_bodies).get(status, ErrorBody)
    documented.model_validate(answer.json())  # the body the document promises for this status


def test_every_recipe_is_for_a_documented_status():
    documented = {(route.method, route.path, status) for route, status in CASES}
    assert set(RECIPES) <= documented, set(RECIPES) - documented
