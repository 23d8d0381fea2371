"""Fine-tuning own models against a local backend speaking OpenAI's files + fine_tuning jobs API."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from shared.domain.base_models import BASE_MODEL_IDS, BASE_MODELS
from shared.providers.openai_fine_tuning import OpenAIFineTuner
from shared.services.schedules import model_versions
from shared.stores.leaderboards import Leaderboards
from tests.factories import own_model, push_leaderboard
from tests.fine_tuning_server import KEY, running_backend

REFUSED_BY_BACKEND = "meta-llama/Llama-3.2-1B-Instruct"


@pytest.fixture
def backend(deps):
    # It lists one model it then refuses to fine-tune, as a backend may for an account.
    with running_backend(set(BASE_MODEL_IDS) - {REFUSED_BY_BACKEND}, frozenset({REFUSED_BY_BACKEND})) as served:
        deps.fine_tuner = OpenAIFineTuner(served.url, KEY)
        deps.settings.fine_tune_base_url = served.url
        deps.settings.fine_tune_api_key = KEY
        deps.settings.fine_tune_base_models = "*"
        yield served


async def _board_with_rows(client, auth, rows: list[dict]) -> str:
    board = (await client.post("/api/leaderboards", headers=auth, json=push_leaderboard(
        system_prompt="Classify the ticket.\n\nTicket:\n{input}"))).json()["leaderboard"]["id"]
    if rows:
        await client.post(f"/v1/leaderboard/{board}/dataset/push", headers=auth, json={"rows": rows})
        await client.post(f"/v1/leaderboard/{board}/dataset/consolidate", headers=auth)
    return board


ROWS = [{"input": "refund please", "expected": "billing"}, {"input": "app crashes", "expected": "bug"},
        {"input": "just saying hi"}]


async def _sync_until_done(client, auth, model: str) -> dict:
    for _ in range(5):
        synced = (await client.post(f"/api/models/{model}/fine-tune/sync", headers=auth)).json()
        if synced["data"] and synced["data"][0]["status"] not in ("queued", "running"):
            return synced
    raise AssertionError(f"the fine-tune did not finish: {synced}")


async def test_a_fine_tune_trains_on_the_dataset_and_makes_a_callable_new_version(client, deps, auth, backend):
    board = await _board_with_rows(client, auth, ROWS)
    model = (await client.post("/api/models", headers=auth, json=own_model())).json()["id"]
    started = await client.post(f"/api/models/{model}/fine-tune/run", headers=auth, json={
        "leaderboard_id": board, "hyperparameters": {"n_epochs": 2, "learning_rate_multiplier": 0.5},
        "suffix": "support"})
    assert started.status_code == 201, started.text
    run = started.json()
    assert (run["status"], run["base_model"], run["model_version"]) == ("queued", own_model()["base_model"], None)
    assert run["dataset"] == {"type": "PUSH", "version": 1, "rows": 3, "training_rows": 2}
    [examples] = backend.files.values()
    assert examples[0]["messages"] == [{"role": "user", "content": "Classify the ticket.\n\nTicket:\nrefund please"},
                                       {"role": "assistant", "content": "billing"}]
    assert backend.requests[0]["hyperparameters"] == {"n_epochs": 2, "learning_rate_multiplier": 0.5}
    again = await client.post(f"/api/models/{model}/fine-tune/run", headers=auth, json={"leaderboard_id": board})
    assert again.status_code == 409 and again.json()["error"] == "fine_tune_in_progress"

    candidate = (await client.post(f"/api/leaderboards/{board}/models", headers=auth,
                                   json={"name": "ours", "model_id": model})).json()
    stored = await Leaderboards(deps.documents).get(board)
    before = await model_versions(deps, stored)
    synced = await _sync_until_done(client, auth, model)
    [done] = synced["data"]
    assert done["status"] == "succeeded" and done["model_version"] == 1
    assert done["fine_tuned_model"].startswith(f"ft:{own_model()['base_model']}:org-local:support:")
    assert (synced["model"]["version"], synced["model"]["status"]) == (1, "ready")
    assert synced["model"]["fine_tuned_model"] == done["fine_tuned_model"]
    assert before[candidate["id"]] == "0" and (await model_versions(deps, stored))[candidate["id"]] == "1"

    await client.patch(f"/api/leaderboards/{board}", headers=auth, json={"chosen_leaderboard_model_id": candidate["id"]})
    answer = await client.post(f"/v1/leaderboard/{board}/inference", headers=auth, json={"input": "hello there"})
    assert answer.status_code == 200 and answer.json()["output"] == "tuned:hello there"
    listed = (await client.get(f"/api/models/{model}/fine-tune/runs", headers=auth)).json()
    assert listed["count"] == 1 and listed["data"][0]["status"] == "succeeded"
    assert (await client.post(f"/api/models/{model}/fine-tune/sync", headers=auth)).json()["count"] == 0


async def test_concurrent_syncs_record_one_new_version(client, deps, auth, backend):
    board = await _board_with_rows(client, auth, ROWS)
    model = (await client.post("/api/models", headers=auth, json=own_model())).json()["id"]
    await client.post(f"/api/models/{model}/fine-tune/run", headers=auth, json={"leaderboard_id": board})
    for _ in range(2):
        await client.post(f"/api/models/{model}/fine-tune/sync", headers=auth)
    both = await asyncio.gather(*(client.post(f"/api/models/{model}/fine-tune/sync", headers=auth) for _ in range(2)))
    assert all(answer.status_code == 200 for answer in both)
    assert (await client.get(f"/api/models/{model}", headers=auth)).json()["version"] == 1


@pytest.mark.parametrize("outcome", ["failed", "cancelled"])
async def test_failed_and_cancelled_jobs_leave_the_model_as_it_was(client, auth, backend, outcome):
    board = await _board_with_rows(client, auth, ROWS)
    model = (await client.post("/api/models", headers=auth, json=own_model())).json()["id"]
    backend.next_outcome = "failed"
    run = (await client.post(f"/api/models/{model}/fine-tune/run", headers=auth, json={"leaderboard_id": board})).json()
    if outcome == "cancelled":
        async with httpx.AsyncClient() as http:
            cancelled = await http.post(f"{backend.url}/fine_tuning/jobs/{run['backend_job_id']}/cancel",
                                        headers={"Authorization": f"Bearer {KEY}"})
        assert cancelled.json()["status"] == "cancelled"
    [done] = (await _sync_until_done(client, auth, model))["data"]
    assert done["status"] == outcome and done["model_version"] is None and done["finished_at"]
    if outcome == "failed":
        assert done["error"] == "Training diverged."
    detail = (await client.get(f"/api/models/{model}", headers=auth)).json()
    assert (detail["version"], detail["status"], detail["fine_tuned_model"]) == (0, "draft", None)
    backend.next_outcome = "succeeded"
    retry = await client.post(f"/api/models/{model}/fine-tune/run", headers=auth, json={"leaderboard_id": board})
    assert retry.status_code == 201


async def test_bad_fine_tune_requests_get_clear_errors(client, deps, auth, tenants, backend):
    model = (await client.post("/api/models", headers=auth, json=own_model())).json()["id"]
    url = f"/api/models/{model}/fine-tune/run"
    no_rows = await _board_with_rows(client, auth, [])
    empty = await client.post(url, headers=auth, json={"leaderboard_id": no_rows})
    assert empty.status_code == 422 and empty.json()["error"] == "empty_dataset"
    unlabelled = await _board_with_rows(client, auth, [{"input": "a"}, {"input": "b"}])
    answer = await client.post(url, headers=auth, json={"leaderboard_id": unlabelled})
    assert answer.json()["error"] == "empty_dataset" and "2 rows and none with an expected" in answer.json()["message"]

    board = await _board_with_rows(client, auth, ROWS)
    unknown = await client.post(url, headers=auth, json={"leaderboard_id": board, "base_model": "acme/secret-llm"})
    assert unknown.status_code == 422 and "GET /api/base-models" in unknown.json()["message"]
    refused = await client.post(url, headers=auth, json={"leaderboard_id": board, "base_model": REFUSED_BY_BACKEND})
    assert refused.status_code == 422 and refused.json()["error"] == "fine_tune_rejected"
    assert "not available for fine-tuning" in refused.json()["message"]
    for body in ({"leaderboard_id": board, "hyperparameters": {"n_epochs": 0}}, {"leaderboard_id": board, "suffix": "Bad Suffix"},
                 {}, {"leaderboard_id": board, "hyperparameters": {"warmup": 1}}):
        assert (await client.post(url, headers=auth, json=body)).status_code == 422, body
    missing = await client.post(url, headers=auth, json={"leaderboard_id": "4f6d1c9e-0000-4000-8000-000000000000"})
    assert missing.status_code == 404
    other = await tenants.headers("workspace-b")
    assert (await client.post(url, headers=other, json={"leaderboard_id": board})).status_code == 404
    reader = await tenants.headers("acme", scopes=("models:read",))
    assert (await client.post(url, headers=reader, json={"leaderboard_id": board})).status_code == 403

    deps.fine_tuner = OpenAIFineTuner("http://127.0.0.1:9/v1", KEY)
    down = await client.post(url, headers=auth, json={"leaderboard_id": board})
    assert down.status_code == 502 and down.json()["error"] == "provider_unavailable"
    assert (await client.get(f"/api/models/{model}/fine-tune/runs", headers=auth)).json()["count"] == 0


# --- base models: the backend's own, or the built-in list --------------------------------------------

FINE_TUNABLE = {"gpt-4.1-nano-2025-04-14", "gpt-4o-mini-2024-07-18"}  # in the default allow-list
ONLY_LISTED = frozenset({"gpt-4o-2024-11-20", "text-embedding-3-small", "whisper-1"})  # listed, not in it


@pytest.fixture
def openai_like(deps):
    """A backend listing models the way OpenAI does: the fine-tunable ones among many others."""
    with running_backend(FINE_TUNABLE, ONLY_LISTED) as served:
        deps.fine_tuner = OpenAIFineTuner(served.url, KEY)
        yield served


async def _base_models(client, auth) -> dict:
    answer = await client.get("/api/base-models", headers=auth)
    assert answer.status_code == 200, answer.text
    return answer.json()


async def test_base_models_are_the_listed_models_the_allow_list_names(client, auth, openai_like):
    offered = await _base_models(client, auth)
    assert offered["source"] == "backend" and offered["count"] == 2
    assert [(m["id"], m["fine_tunable"], m["family"]) for m in offered["data"]] == \
        [(model_id, True, None) for model_id in sorted(FINE_TUNABLE)]
    created = await client.post("/api/models", headers=auth, json=own_model(base_model="gpt-4o-mini-2024-07-18"))
    assert created.status_code == 201, created.text
    for not_offered in ("text-embedding-3-small", own_model()["base_model"]):
        refused = await client.post("/api/models", headers=auth, json=own_model(base_model=not_offered))
        assert refused.status_code == 422 and refused.json()["details"][0]["field"] == "base_model"


async def test_a_star_offers_every_model_the_backend_lists(client, auth, deps, openai_like):
    deps.settings.fine_tune_base_models = "*"
    offered = await _base_models(client, auth)
    assert [m["id"] for m in offered["data"]] == sorted(FINE_TUNABLE | ONLY_LISTED)


async def test_a_backend_that_cannot_list_or_answer_offers_the_built_in_list(client, auth, deps, openai_like):
    built_in = [model["id"] for model in BASE_MODELS]
    openai_like.lists_models = False
    offered = await _base_models(client, auth)
    assert (offered["source"], [m["id"] for m in offered["data"]]) == ("built-in", built_in)
    assert offered["data"][0]["parameters"] == BASE_MODELS[0]["parameters"]
    assert (await client.post("/api/models", headers=auth, json=own_model())).status_code == 201
    deps.fine_tuner = OpenAIFineTuner("http://127.0.0.1:9/v1", KEY)
    offered = await _base_models(client, auth)
    assert (offered["source"], [m["id"] for m in offered["data"]]) == ("built-in", built_in)


async def test_the_listing_is_asked_for_once_per_cache_time(client, auth, deps, openai_like):
    for _ in range(3):
        await _base_models(client, auth)
    await client.post("/api/models", headers=auth, json=own_model(base_model="gpt-4o-mini-2024-07-18"))
    assert openai_like.listings == 1
    deps.settings.catalog_cache_seconds = 0
    await _base_models(client, auth)
    assert openai_like.listings == 2


async def test_a_fine_tune_starts_only_from_an_offered_base_model(client, auth, openai_like):
    board = await _board_with_rows(client, auth, ROWS)
    model = (await client.post("/api/models", headers=auth,
                               json=own_model(base_model="gpt-4o-mini-2024-07-18"))).json()["id"]
    url = f"/api/models/{model}/fine-tune/run"
    refused = await client.post(url, headers=auth, json={"leaderboard_id": board, "base_model": "gpt-4o-2024-11-20"})
    assert refused.status_code == 422 and "GET /api/base-models" in refused.json()["message"]
    started = await client.post(url, headers=auth, json={"leaderboard_id": board})
    assert started.status_code == 201, started.text
    assert openai_like.requests[-1]["model"] == "gpt-4o-mini-2024-07-18"
