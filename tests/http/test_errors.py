"""Every error class answers JSON `{error, message}` with its status, never a 500."""

from __future__ import annotations

import uuid

import pytest

from shared.adapters.cloud_tasks import CloudTasksQueue
from shared.auth import scopes as S
from tests.emulators import free_port
from tests.factories import push_leaderboard


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["error"] == code and body["message"]
    return body


async def test_malformed_json_is_400(client, auth):
    response = await client.post("/api/leaderboards", content=b'{"name": ', headers={
        **auth, "Content-Type": "application/json"})
    assert_error(response, 400, "malformed_json")


async def test_a_body_that_is_not_an_object_is_422(client, auth):
    response = await client.post("/api/leaderboards", json=["not", "an", "object"], headers=auth)
    assert_error(response, 422, "validation_error")


@pytest.mark.parametrize("headers", [
    {}, {"Authorization": "Bearer"}, {"Authorization": "Basic abc"},
    {"Authorization": "Bearer drgero_not-a-real-token"}, {"Authorization": "Bearer hpd_push-token"},
])
async def test_missing_or_invalid_tokens_are_401(client, headers):
    body = assert_error(await client.get("/api/leaderboards", headers=headers), 401,
                        "unauthorized" if "drgero_" not in str(headers) and "hpd_" not in str(headers)
                        else "invalid_token")
    assert "drgero_" not in body["message"].replace("drgero_...", "")


async def test_a_token_without_the_scope_is_403(client, tenants):
    reader = await tenants.headers(scopes=(S.LEADERBOARDS_READ,))
    assert (await client.get("/api/leaderboards", headers=reader)).status_code == 200
    response = await client.post("/api/leaderboards", json=push_leaderboard(), headers=reader)
    body = assert_error(response, 403, "insufficient_scope")
    assert S.LEADERBOARDS_WRITE in body["message"]


@pytest.mark.parametrize("path", [
    f"/api/leaderboards/{uuid.uuid4()}", "/api/leaderboards/not-a-uuid", f"/api/models/{uuid.uuid4()}",
    "/api/nothing-here",
])
async def test_unknown_ids_and_paths_are_404(client, auth, path):
    assert_error(await client.get(path, headers=auth), 404, "not_found")


async def test_wrong_method_is_405_with_allow(client, auth):
    response = await client.put("/api/leaderboards", json={}, headers=auth)
    assert_error(response, 405, "method_not_allowed")
    assert set(response.headers["allow"].split(", ")) == {"GET", "POST"}


async def test_bodies_over_the_limit_are_413(client, auth, deps):
    limit = deps.settings.max_body_bytes
    big = push_leaderboard(description="x" * (limit + 10))
    assert_error(await client.post("/api/leaderboards", json=big, headers=auth), 413, "payload_too_large")


async def test_non_json_bodies_are_415(client, auth):
    response = await client.post("/api/leaderboards", content=b"name=x", headers={
        **auth, "Content-Type": "application/x-www-form-urlencoded"})
    assert_error(response, 415, "unsupported_media_type")


async def test_bad_query_parameters_are_422(client, auth):
    body = assert_error(await client.get("/api/leaderboards?limit=0", headers=auth), 422, "validation_error")
    assert body["details"][0]["field"] == "limit"
    assert_error(await client.get("/api/leaderboards?offset=-1", headers=auth), 422, "validation_error")
    assert_error(await client.get("/api/leaderboards?limit=abc", headers=auth), 422, "validation_error")


async def test_wrong_types_are_422_with_the_field(client, auth):
    response = await client.post("/api/leaderboards", json=push_leaderboard(dedupe={"no": 1}), headers=auth)
    body = assert_error(response, 422, "validation_error")
    assert body["details"][0]["field"] == "dedupe"


async def test_null_is_refused_for_fields_a_leaderboard_always_has(client, auth):
    board = (await client.post("/api/leaderboards", json=push_leaderboard(), headers=auth)).json()["leaderboard"]
    refused = await client.patch(f"/api/leaderboards/{board['id']}", json={"daily_event_limit": None,
                                                                          "eval_type": None}, headers=auth)
    assert "daily_event_limit, eval_type" in str(assert_error(refused, 422, "validation_error")["details"])
    cleared = await client.patch(f"/api/leaderboards/{board['id']}", json={"description": None}, headers=auth)
    assert cleared.status_code == 200 and cleared.json()["leaderboard"]["description"] is None


async def test_credentials_that_cannot_travel_in_a_header_are_refused(client, auth):
    board = (await client.post("/api/leaderboards", json=push_leaderboard(), headers=auth)).json()["leaderboard"]
    refused = await client.post(f"/api/leaderboards/{board['id']}/models", headers=auth, json={
        "name": "x", "platform": "OpenRouter", "model_url": "a/b", "token": "sk-ключ"})
    assert assert_error(refused, 422, "validation_error")["details"][0]["field"] == "token"


async def test_health_and_readiness_need_no_auth(client):
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "checks": {"documents": "ok", "blobs": "ok", "queue": "ok"}}


async def test_readiness_is_503_with_a_reason_when_a_backend_is_down(client, deps):
    deps.documents.close()
    response = await client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["documents"].startswith("unreachable")


async def test_readiness_is_503_when_the_task_queue_is_unreachable(client, deps):
    deps.queue = CloudTasksQueue("p", "europe-west1", "q", "http://127.0.0.1:9", emulator_host=f"127.0.0.1:{free_port()}")
    response = await client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["queue"].startswith("unreachable: cloud tasks")
    assert response.json()["checks"]["documents"] == "ok"
    await deps.queue.aclose()


async def test_numbers_no_store_can_hold_are_refused(client, auth):
    board = {"name": "n", "system_prompt": "{input}", "dataset_type": "PUSH"}
    created = (await client.post("/api/leaderboards", json=board, headers=auth)).json()["leaderboard"]["id"]
    url = f"/v1/leaderboard/{created}/dataset/push"
    headers = {**auth, "Content-Type": "application/json"}
    huge = await client.post(url, content=b'{"input": "x", "metadata": {"n": 99999999999999999999}}', headers=headers)
    assert huge.status_code == 422 and huge.json()["error"] == "validation_error"
    nan = await client.post(url, content=b'{"input": "x", "metadata": {"n": NaN}}', headers=headers)
    assert nan.status_code == 400 and nan.json()["error"] == "malformed_json"


async def test_bodies_nested_beyond_the_parser_are_refused_not_crashed(client, auth):
    deep = b"[" * 100_000 + b"]" * 100_000
    response = await client.post("/api/leaderboards", content=deep,
                                 headers={**auth, "Content-Type": "application/json"})
    assert response.status_code == 422 and response.json()["error"] == "validation_error"


async def test_unroutable_paths_and_unknown_methods_still_get_json(client, auth):
    newline = await client.get("/api/leaderboards/a%0Ab", headers=auth)
    assert assert_error(newline, 404, "not_found")
    traced = await client.request("TRACE", "/api/leaderboards", headers=auth)
    assert traced.status_code == 405 and traced.json()["error"] and "GET" in traced.headers["allow"]
