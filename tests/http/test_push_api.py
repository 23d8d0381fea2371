"""PUSH datasets through the HTTP API on the embedded default (seed: drgero-push-datasets-api)."""

from __future__ import annotations

import asyncio
import json
import random

import pytest

from shared.services.tasks import runner
from tests.factories import get_leaderboard, push_leaderboard

SEED_KEYS = {"accepted_rows", "rejected_rows", "status", "batch_id", "pending_events", "limits", "consolidation"}


async def _board(client, auth, **settings) -> str:
    response = await client.post("/api/leaderboards", json=push_leaderboard(**settings), headers=auth)
    assert response.status_code == 201, response.text
    return response.json()["leaderboard"]["id"]


async def _push(client, headers, board: str, body, **extra):
    return await client.post(f"/v1/leaderboard/{board}/dataset/push", json=body, headers=headers, **extra)


async def _dataset(client, auth, board: str) -> list[dict]:
    response = await client.get(f"/v1/leaderboard/{board}/dataset", headers=auth)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/x-ndjson")
    return [json.loads(line) for line in response.text.splitlines()]


async def _consolidate(client, auth, board: str) -> dict:
    response = await client.post(f"/v1/leaderboard/{board}/dataset/consolidate", headers=auth)
    assert response.status_code == 200, response.text
    return response.json()


async def test_a_single_row_push_answers_the_seed_body(client, auth):
    board = await _board(client, auth, daily_event_limit=5000, monthly_event_limit=50000,
                         max_samples_to_gather=1000)
    response = await _push(client, auth, board, {"input": "What did the user ask?",
                                                 "output": "The answer your current LLM returned"})
    assert response.status_code == 202
    body = response.json()
    assert set(body) == SEED_KEYS
    assert (body["accepted_rows"], body["rejected_rows"], body["status"], body["pending_events"]) == (1, 0, "accepted", 1)
    assert body["limits"] == {"daily_event_limit": 5000, "monthly_event_limit": 50000, "max_samples_to_gather": 1000}
    assert body["consolidation"] == {"should_consolidate": False}


async def test_the_alias_path_runs_the_same_handler(client, auth):
    board = await _board(client, auth)
    response = await client.post(f"/api/leaderboards/{board}/dataset/push", headers=auth,
                                 json={"rows": [{"input": "a"}, {"prompt": "b"}]})
    assert response.status_code == 202
    assert response.json()["accepted_rows"] == 2


async def test_get_leaderboards_refuse_pushes(client, auth):
    board = (await client.post("/api/leaderboards", json=get_leaderboard(), headers=auth)).json()["leaderboard"]["id"]
    response = await _push(client, auth, board, {"input": "x"})
    assert response.status_code == 409
    assert response.json()["error"] == "not_a_push_dataset"


async def test_bad_rows_are_rejected_with_reasons_and_never_stored(client, auth):
    board = await _board(client, auth)
    rows = [{"input": "fine", "output": "ok"}, {"output": "no input"}, "not an object",
            {"input": "x", "metadata": "not a dict"}, {"input": "y" * 40_000}, {"input": "fine", "output": "ok"}]
    response = await _push(client, auth, board, {"rows": rows})
    body = response.json()
    assert response.status_code == 202
    assert (body["accepted_rows"], body["rejected_rows"], body["status"]) == (1, 5, "partial")
    assert [(r["index"], r["reason"]) for r in body["rejections"]] == [
        (1, "missing_input"), (2, "not_an_object"), (3, "invalid_metadata"), (4, "field_too_long"), (5, "duplicate")]
    await _consolidate(client, auth, board)
    assert [row["input"] for row in await _dataset(client, auth, board)] == ["fine"]


@pytest.mark.parametrize("body", [[{"input": "a list is not a push"}], {"rows": "nope"}, {"rows": []}])
async def test_malformed_push_bodies_are_422(client, auth, body):
    board = await _board(client, auth)
    response = await _push(client, auth, board, body)
    assert response.status_code == 422
    assert response.json()["error"] == "validation_error"


async def test_request_caps_answer_413(client, auth):
    board = await _board(client, auth)
    too_many = await _push(client, auth, board, {"rows": [{"input": str(n)} for n in range(501)]})
    assert too_many.status_code == 413 and too_many.json()["error"] == "too_many_rows"
    too_big = await _push(client, auth, board, {"rows": [{"input": "x" * 30_000} for _ in range(30)]})
    assert too_big.status_code == 413 and too_big.json()["error"] == "payload_too_large"
    status = (await client.get(f"/v1/leaderboard/{board}/dataset/status", headers=auth)).json()
    assert status["pending_events"] == 0 and status["quota"]["used_today"] == 0


async def test_push_tokens_push_to_their_leaderboard_only_until_revoked(client, auth):
    board, other = await _board(client, auth), await _board(client, auth)
    created = await client.post(f"/v1/leaderboard/{board}/dataset/token", headers=auth,
                                json={"name": "production webhook"})
    assert created.status_code == 201
    token = created.json()
    assert token["token"].startswith("hpd_")
    assert token["webhook_url"].endswith(f"/v1/leaderboard/{board}/dataset/push")
    assert token["dataset_url"].endswith(f"/v1/leaderboard/{board}/dataset")
    hpd = {"X-Dr.Gero-Push-Token": token["token"]}
    assert (await _push(client, hpd, board, {"input": "hello", "output": "world"})).status_code == 202
    assert (await _push(client, {"Authorization": f"Bearer {token['token']}"}, board, {"input": "again"})).status_code == 202
    assert (await _push(client, hpd, other, {"input": "elsewhere"})).status_code == 404
    assert (await client.get(f"/v1/leaderboard/{board}/dataset/status", headers=hpd)).status_code == 401
    assert (await client.get(f"/v1/leaderboard/{board}/dataset", headers=hpd)).status_code == 401
    status = (await client.get(f"/v1/leaderboard/{board}/dataset/status", headers=auth)).json()
    assert status["active_push_tokens"] == 1
    revoked = await client.delete(f"/v1/leaderboard/{board}/dataset/tokens", headers=auth)
    assert revoked.json() == {"leaderboard_id": board, "revoked": 1}
    refused = await _push(client, hpd, board, {"input": "late"})
    assert refused.status_code == 401 and refused.json()["error"] == "invalid_token"
    assert (await _push(client, {"X-Dr.Gero-Push-Token": "hpd_forged"}, board, {"input": "x"})).status_code == 401


async def test_api_tokens_need_leaderboards_write_to_push(client, auth, tenants):
    board = await _board(client, auth)
    reader = await tenants.headers("acme", scopes=("leaderboards:read",))
    response = await _push(client, reader, board, {"input": "x"})
    assert response.status_code == 403 and response.json()["error"] == "insufficient_scope"


async def test_daily_and_monthly_quotas_accept_part_of_a_push_and_reset(client, auth, clock):
    board = await _board(client, auth, daily_event_limit=5, monthly_event_limit=8)
    first = (await _push(client, auth, board, {"rows": [{"input": f"a{n}"} for n in range(3)]})).json()
    second = (await _push(client, auth, board, {"rows": [{"input": f"b{n}"} for n in range(3)]})).json()
    assert (first["accepted_rows"], second["accepted_rows"], second["status"]) == (3, 2, "partial")
    assert [r["reason"] for r in second["rejections"]] == ["quota_exceeded"]
    clock.advance(days=1)
    third = (await _push(client, auth, board, {"rows": [{"input": f"c{n}"} for n in range(5)]})).json()
    assert (third["accepted_rows"], third["rejected_rows"]) == (3, 2)  # the month has 3 left
    status = (await client.get(f"/v1/leaderboard/{board}/dataset/status", headers=auth)).json()
    assert (status["quota"]["used_today"], status["quota"]["used_this_month"]) == (3, 8)
    assert status["pending_events"] == 8


async def test_fifty_concurrent_pushers_accept_exactly_the_limit(client, auth):
    limit = 137
    board = await _board(client, auth, daily_event_limit=limit, monthly_event_limit=10 * limit, dedupe=False)
    rng = random.Random(7)
    sizes = [rng.randint(1, 9) for _ in range(50)]
    assert sum(sizes) > limit
    bodies = [{"rows": [{"input": f"pusher {p} row {r}"} for r in range(size)]} for p, size in enumerate(sizes)]
    responses = await asyncio.gather(*(_push(client, auth, board, body) for body in bodies))
    assert all(response.status_code == 202 for response in responses)
    assert sum(response.json()["accepted_rows"] for response in responses) == limit
    await _consolidate(client, auth, board)
    assert len(await _dataset(client, auth, board)) == limit


async def test_retries_with_an_idempotency_key_are_accepted_once(client, auth):
    board = await _board(client, auth, dedupe=False)
    body = {"rows": [{"input": "once"}, {"input": "twice?"}]}
    first = await _push(client, {**auth, "Idempotency-Key": "req-1"}, board, body)
    again = await _push(client, {**auth, "Idempotency-Key": "req-1"}, board, body)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    other = await _push(client, {**auth, "Idempotency-Key": "req-2"}, board, body)
    assert other.json()["batch_id"] != first.json()["batch_id"]
    assert other.json()["pending_events"] == 4  # dedupe is off: a new key is a new batch


async def test_a_retry_is_replayed_even_once_the_quota_is_spent(client, auth):
    board = await _board(client, auth, dedupe=False, daily_event_limit=2)
    body = {"rows": [{"input": "a"}, {"input": "b"}]}
    first = await _push(client, {**auth, "Idempotency-Key": "req-1"}, board, body)
    again = await _push(client, {**auth, "Idempotency-Key": "req-1"}, board, body)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json() and first.json()["accepted_rows"] == 2
    fresh = await _push(client, {**auth, "Idempotency-Key": "req-2"}, board, body)
    assert fresh.json()["status"] == "rejected"  # a new key finds the quota spent


async def test_reusing_an_idempotency_key_for_other_rows_is_refused_not_silently_dropped(client, auth):
    board = await _board(client, auth, dedupe=False)
    await _push(client, {**auth, "Idempotency-Key": "req-1"}, board, {"input": "first"})
    reused = await _push(client, {**auth, "Idempotency-Key": "req-1"}, board, {"input": "something else"})
    assert reused.status_code == 422 and reused.json()["error"] == "idempotency_key_reused"
    status = (await client.get(f"/v1/leaderboard/{board}/dataset/status", headers=auth)).json()
    assert status["pending_events"] == 1


async def test_dedupe_keeps_one_row_per_id_or_content_across_pushes(client, auth):
    board = await _board(client, auth)
    await _push(client, auth, board, {"rows": [{"id": "t-1", "input": "v1"}, {"input": "same", "output": "o"}]})
    await _consolidate(client, auth, board)
    await _push(client, auth, board, {"rows": [{"id": "t-1", "input": "v2"}, {"input": "same", "output": "o"},
                                               {"input": "same", "output": "other"}]})
    outcome = await _consolidate(client, auth, board)
    assert (outcome["merged_rows"], outcome["deduplicated_rows"], outcome["version"]) == (1, 2, 2)
    rows = await _dataset(client, auth, board)
    assert [(row["input"], row["expected"]) for row in rows] == [("v1", None), ("same", "o"), ("same", "other")]
    assert len({row["id"] for row in rows}) == 3


async def test_the_dataset_download_is_versioned_with_an_etag(client, auth):
    board = await _board(client, auth)
    empty = await client.get(f"/v1/leaderboard/{board}/dataset", headers=auth)
    assert (empty.status_code, empty.text, empty.headers["etag"]) == (200, "", '"v0"')
    await _push(client, auth, board, {"rows": [{"id": "r1", "question": "q", "answer": "a", "user_id": "u1",
                                                "metadata": {"source": "app"}}]})
    await _consolidate(client, auth, board)
    response = await client.get(f"/v1/leaderboard/{board}/dataset", headers=auth)
    assert response.headers["etag"] == '"v1"'
    [row] = [json.loads(line) for line in response.text.splitlines()]
    assert (row["id"], row["input"], row["expected"]) == ("r1", "q", "a")
    assert row["metadata"] == {"source": "app", "user_id": "u1"} and row["pushed_at"]
    cached = await client.get(f"/v1/leaderboard/{board}/dataset", headers={**auth, "If-None-Match": '"v1"'})
    assert cached.status_code == 304


async def test_auto_limit_keeps_the_newest_rows(client, auth):
    board = await _board(client, auth, max_samples_to_gather=3, auto_limit_size=True)
    await _push(client, auth, board, {"rows": [{"input": f"old {n}"} for n in range(2)]})
    await _consolidate(client, auth, board)
    await _push(client, auth, board, {"rows": [{"input": f"new {n}"} for n in range(2)]})
    outcome = await _consolidate(client, auth, board)
    assert (outcome["dropped_rows"], outcome["rows"]) == (1, 3)
    assert [row["input"] for row in await _dataset(client, auth, board)] == ["old 1", "new 0", "new 1"]


async def test_without_auto_limit_a_full_dataset_refuses_new_rows(client, auth):
    board = await _board(client, auth, max_samples_to_gather=3, auto_limit_size=False)
    first = (await _push(client, auth, board, {"rows": [{"input": f"r{n}"} for n in range(5)]})).json()
    assert first["accepted_rows"] == 3
    assert {r["reason"] for r in first["rejections"]} == {"dataset_full"}
    await _consolidate(client, auth, board)
    later = (await _push(client, auth, board, {"input": "one more"})).json()
    assert (later["accepted_rows"], later["status"]) == (0, "rejected")
    assert len(await _dataset(client, auth, board)) == 3


async def test_status_reports_versions_quota_and_the_next_consolidation(client, auth, clock):
    board = await _board(client, auth, consolidate_every_events=500, consolidate_every_hours=24)
    await _push(client, auth, board, {"rows": [{"input": "a"}, {"input": "b"}]})
    status = (await client.get(f"/v1/leaderboard/{board}/dataset/status", headers=auth)).json()
    assert (status["pending_events"], status["consolidated_rows"], status["dataset_version"]) == (2, 0, 0)
    assert status["next_consolidation"]["oldest_pending_at"] == "2026-03-14T09:00:00.000000Z"
    assert status["next_consolidation"]["due_by_age_at"] == "2026-03-15T09:00:00.000000Z"
    assert status["next_consolidation"]["due_now"] is False
    await _consolidate(client, auth, board)
    status = (await client.get(f"/v1/leaderboard/{board}/dataset/status", headers=auth)).json()
    assert (status["pending_events"], status["consolidated_rows"], status["dataset_version"]) == (0, 2, 1)
    assert status["consolidated_at"] == "2026-03-14T09:00:00.000000Z"
    assert status["next_consolidation"]["oldest_pending_at"] is None


async def test_consolidate_due_needs_the_cron_secret_and_picks_due_datasets(client, auth, deps, clock):
    by_events = await _board(client, auth, consolidate_every_events=3, consolidate_every_hours=24)
    by_age = await _board(client, auth, consolidate_every_events=100, consolidate_every_hours=2)
    not_due = await _board(client, auth, consolidate_every_events=100, consolidate_every_hours=24)
    await _push(client, auth, by_events, {"rows": [{"input": f"e{n}"} for n in range(3)]})
    await _push(client, auth, by_age, {"input": "aging"})
    await _push(client, auth, not_due, {"input": "fresh"})
    clock.advance(hours=3)
    url = "/api/push-datasets/consolidate-due"
    assert (await client.post(url)).status_code == 401
    assert (await client.post(url, headers={"Authorization": "Bearer wrong"})).status_code == 401
    assert (await client.post(url, headers=auth)).status_code == 401
    cron = {"Authorization": f"Bearer {deps.settings.effective_cron_secret}"}
    done = (await client.post(url, headers=cron)).json()["consolidated"]
    assert {(d["leaderboard_id"], d["reason"], d["rows"]) for d in done} == {(by_events, "events", 3), (by_age, "age", 1)}
    assert (await client.post(url, headers=cron)).json() == {"consolidated": []}
    status = (await client.get(f"/v1/leaderboard/{not_due}/dataset/status", headers=auth)).json()
    assert status["pending_events"] == 1


async def test_reaching_the_event_threshold_queues_a_consolidation(client, auth, deps):
    board = await _board(client, auth, consolidate_every_events=4)
    deps.queue.start(runner(deps))  # the test client runs no lifespan, so start the worker here
    first = (await _push(client, auth, board, {"rows": [{"input": f"r{n}"} for n in range(3)]})).json()
    assert first["consolidation"]["should_consolidate"] is False
    second = (await _push(client, auth, board, {"input": "the fourth"})).json()
    assert second["consolidation"]["should_consolidate"] is True
    try:
        await deps.queue.drain()
    finally:
        await deps.queue.stop()
    assert len(await _dataset(client, auth, board)) == 4
