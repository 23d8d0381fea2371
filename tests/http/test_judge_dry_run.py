"""The judge dry-run against a local judge speaking the OpenAI wire format: scores, reasoning, caps, deadline."""

from __future__ import annotations

import pytest

from tests.conftest import make_settings
from tests.upstream import running_upstream


@pytest.fixture
def settings(tmp_path):
    return make_settings(tmp_path, allow_private_urls=True, judge_test_timeout_seconds=1.0)


@pytest.fixture
def upstream():
    with running_upstream() as server:
        yield server


def _judge(upstream) -> dict:
    return {"judge_provider": "Custom", "judge_url": f"{upstream.url}/judge/v1", "judge_model": "local-judge"}


async def _board(client, auth, rows: list[dict] | None = None, **settings) -> str:
    created = await client.post("/api/leaderboards", headers=auth, json={
        "name": "Capitals", "system_prompt": "Name the capital.\n{input}", "dataset_type": "PUSH",
        "eval_type": "judge", **settings})
    board = created.json()["leaderboard"]["id"]
    if rows:
        await client.post(f"/v1/leaderboard/{board}/dataset/push", headers=auth, json={"rows": rows})
        await client.post(f"/v1/leaderboard/{board}/dataset/consolidate", headers=auth)
    return board


async def _runs_and_traces(client, auth, board: str) -> tuple[int, int]:
    runs = (await client.get(f"/api/leaderboards/{board}/runs", headers=auth)).json()["count"]
    traces = (await client.get(f"/v1/leaderboard/{board}/traces", headers=auth)).json()["count"]
    return runs, traces


async def test_inline_rows_are_scored_with_reasoning_and_nothing_is_saved(client, auth, upstream):
    board = await _board(client, auth)
    response = await client.post(f"/api/leaderboards/{board}/eval/test", headers=auth, json={
        **_judge(upstream), "rows": [{"input": "France?", "output": "It is Paris.", "expected": "Paris"},
                                     {"input": "Italy?", "output": "Milan", "expected": "Rome"}]})
    assert response.status_code == 200, response.text
    body = response.json()
    assert [(r["status"], r["score"], r["reasoning"]) for r in body["results"]] == [
        ("scored", 1.0, "compared with the reference"), ("scored", 0.0, "compared with the reference")]
    assert (body["saved"], body["mean_score"], body["scored"], body["judge"]) == \
        (False, 0.5, 2, {"provider": "Custom", "model": "local-judge"})
    assert upstream.calls["judge"] == 2
    assert await _runs_and_traces(client, auth, board) == (0, 0)
    detail = (await client.get(f"/api/leaderboards/{board}", headers=auth)).json()["leaderboard"]
    assert detail["eval_metadata"].get("judge_url") is None  # the configuration tried was not saved


async def test_dataset_items_are_answered_by_a_candidate_and_judged_against_their_expected(client, auth, upstream):
    board = await _board(client, auth, [{"id": "fr", "input": "France", "expected": "paris"},
                                        {"id": "it", "input": "Italy", "expected": "ROME"}])
    echo = (await client.post(f"/api/leaderboards/{board}/models", headers=auth, json={
        "name": "upper", "platform": "Custom", "model_url": upstream.model_url("upper")})).json()["id"]
    await client.patch(f"/v1/leaderboard/{board}/dataset/items/fr", headers=auth, json={"expected": "FRANCE"})
    response = await client.post(f"/api/leaderboards/{board}/eval/test", headers=auth, json={
        **_judge(upstream), "candidate_id": echo, "item_ids": ["fr", "it"]})
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    # The candidate shouts the input back; the edited expected answer (pending, not yet folded) is the reference.
    assert [(r["item_id"], r["output"], r["expected"], r["score"]) for r in results] == [
        ("fr", "FRANCE", "FRANCE", 1.0), ("it", "ITALY", "ROME", 0.0)]
    assert upstream.calls["upper"] == 2


async def test_without_a_candidate_an_item_is_graded_as_production_answered_it(client, auth, upstream):
    board = await _board(client, auth, [{"id": "q", "input": "Capital of Peru?", "output": "Lima"},
                                        {"id": "blank", "input": "no answer yet"}])
    response = await client.post(f"/api/leaderboards/{board}/eval/test", headers=auth, json={
        **_judge(upstream), "item_ids": ["q"]})
    [result] = response.json()["results"]
    assert (result["output"], result["expected"], result["status"]) == ("Lima", None, "scored")
    refused = await client.post(f"/api/leaderboards/{board}/eval/test", headers=auth, json={
        **_judge(upstream), "item_ids": ["blank"]})
    assert refused.status_code == 422 and "no answer to grade" in refused.json()["message"]


async def test_the_leaderboards_own_judge_is_used_when_the_body_names_none(client, auth, upstream):
    board = await _board(client, auth, eval_metadata=_judge(upstream))
    response = await client.post(f"/api/leaderboards/{board}/eval/test", headers=auth, json={
        "rows": [{"input": "Spain?", "output": "Madrid", "expected": "Madrid"}]})
    assert response.json()["results"][0]["score"] == 1.0 and upstream.calls["judge"] == 1


async def test_more_than_twenty_rows_are_refused_before_any_call(client, auth, upstream):
    board = await _board(client, auth)
    rows = [{"input": f"q{i}", "output": "a"} for i in range(21)]
    for body in ({"rows": rows}, {"rows": rows[:11], "item_ids": [f"i{i}" for i in range(10)]},
                 {"item_ids": [f"i{i}" for i in range(21)]}, {}, {"rows": [{"input": "q"}]},
                 {"rows": [{"input": "q", "output": "a"}], "judge_provider": "Nowhere"}):
        refused = await client.post(f"/api/leaderboards/{board}/eval/test", headers=auth, json={**_judge(upstream),
                                                                                            **body})
        assert refused.status_code == 422 and refused.json()["error"] == "validation_error", body
    assert upstream.calls["judge"] == 0


async def test_rows_still_waiting_at_the_deadline_are_answered_timed_out_beside_the_finished_ones(
        client, auth, upstream):
    board = await _board(client, auth, [{"id": "slow-one", "input": "France", "expected": "Paris"}])
    slow = (await client.post(f"/api/leaderboards/{board}/models", headers=auth, json={
        "name": "slow", "platform": "Custom", "model_url": upstream.model_url("slow")})).json()["id"]
    response = await client.post(f"/api/leaderboards/{board}/eval/test", headers=auth, json={
        **_judge(upstream), "candidate_id": slow, "item_ids": ["slow-one"],
        "rows": [{"input": "Italy?", "output": "Rome", "expected": "Rome"}]})
    assert response.status_code == 200
    body = response.json()
    assert [(r["item_id"], r["status"], r["score"]) for r in body["results"]] == [
        ("slow-one", "timed_out", None), (None, "scored", 1.0)]
    assert "within the dry-run's 1 s" in body["results"][0]["error"] and body["timed_out"] == 1


async def test_unknown_ids_and_other_workspaces_are_404_or_422(client, auth, tenants, upstream):
    board = await _board(client, auth, [{"id": "fr", "input": "France", "expected": "Paris"}])
    other = await tenants.headers("beta")
    body = {**_judge(upstream), "rows": [{"input": "q", "output": "a"}]}
    assert (await client.post(f"/api/leaderboards/{board}/eval/test", headers=other, json=body)).status_code == 404
    missing_item = await client.post(f"/api/leaderboards/{board}/eval/test", headers=auth,
                                     json={**_judge(upstream), "item_ids": ["nope"]})
    assert missing_item.status_code == 404
    foreign = await _board(client, other)
    stranger = (await client.post(f"/api/leaderboards/{foreign}/models", headers=other, json={
        "name": "upper", "platform": "Custom", "model_url": upstream.model_url("upper")})).json()["id"]
    borrowed = await client.post(f"/api/leaderboards/{board}/eval/test", headers=auth,
                                 json={**body, "candidate_id": stranger})
    assert borrowed.status_code == 422 and upstream.calls["upper"] == 0
    for odd in ("not-a-uuid", "a/b"):
        refused = await client.post(f"/api/leaderboards/{board}/eval/test", headers=auth,
                                    json={**body, "candidate_id": odd})
        assert refused.status_code == 422 and refused.json()["details"][0]["field"] == "candidate_id"


async def test_a_judge_url_inside_the_network_is_never_called(client, auth, upstream, deps):
    board = await _board(client, auth)
    deps.settings.allow_private_urls = False  # as in production
    response = await client.post(f"/api/leaderboards/{board}/eval/test", headers=auth, json={
        **_judge(upstream), "rows": [{"input": "France?", "output": "Paris", "expected": "Paris"}]})
    assert response.status_code == 422 and response.json()["details"][0]["field"] == "judge"
    assert upstream.calls["judge"] == 0
