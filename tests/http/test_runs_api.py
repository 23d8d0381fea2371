"""Runs end to end on the embedded default: queued model calls to a local upstream, scoring, ranking."""

from __future__ import annotations

import json

import pytest

from shared.services.tasks import runner
from tests.conftest import make_settings
from tests.upstream import running_upstream


@pytest.fixture
def settings(tmp_path):
    # Candidates live on a loopback upstream; small chunks make several chunks per candidate.
    return make_settings(tmp_path, allow_private_urls=True, run_chunk_rows=4, candidate_concurrency=2)


@pytest.fixture
def upstream():
    with running_upstream() as server:
        yield server


CAPITALS = [("France", "Paris"), ("Italy", "Rome"), ("Spain", "Madrid"), ("Japan", "Tokyo"), ("Peru", "Lima"),
            ("Chile", "Santiago"), ("Kenya", "Nairobi"), ("Egypt", "Cairo"), ("Cuba", "Havana"), ("Fiji", "Suva")]


async def _push_board(client, auth, rows, **settings) -> str:
    body = {"name": "Capitals", "system_prompt": "Name the capital. Reply with the city only.\n{input}",
            "dataset_type": "PUSH", "eval_type": "exact", **settings}
    board = (await client.post("/api/leaderboards", json=body, headers=auth)).json()["leaderboard"]["id"]
    if rows:
        pushed = await client.post(f"/v1/leaderboard/{board}/dataset/push", json={"rows": rows}, headers=auth)
        assert pushed.json()["accepted_rows"] == len(rows)
        await client.post(f"/v1/leaderboard/{board}/dataset/consolidate", headers=auth)
    return board


def _capital_rows() -> list[dict]:
    # The input's last line is the answer, so the `echo` model is always right.
    return [{"id": country, "input": f"Country: {country}\n{city}", "expected": city} for country, city in CAPITALS]


async def _candidate(client, auth, board, name, url) -> str:
    response = await client.post(f"/api/leaderboards/{board}/models", headers=auth,
                                 json={"name": name, "platform": "Custom", "model_url": url})
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def _finished(client, auth, board, run_id, worker) -> dict:
    await worker.drain(timeout=60)
    run = (await client.get(f"/api/leaderboards/{board}/runs/{run_id}", headers=auth)).json()
    return run


async def test_a_run_scores_every_candidate_ranks_them_and_picks_the_winner(client, auth, upstream, worker):
    board = await _push_board(client, auth, _capital_rows())
    right = await _candidate(client, auth, board, "always right", upstream.model_url("echo"))
    wrong = await _candidate(client, auth, board, "always Paris", upstream.model_url("const-Paris"))
    started = await client.post(f"/api/leaderboards/{board}/run", headers=auth,
                                json={"model_ids": [right, wrong], "run_source": "manual"})
    assert started.status_code == 202
    assert (started.json()["status"], started.json()["run_source"]) == ("queued", "manual")
    run = await _finished(client, auth, board, started.json()["id"], worker)
    assert run["status"] == "completed", run
    assert (run["rows"], run["chunks"]) == (10, 2)
    assert run["dataset"] == {"type": "PUSH", "version": 1, "auto_labels": 0, "dropped_rows": 0}
    assert run["progress"]["percent"] == 100.0
    first, second = run["ranking"]
    assert (first["candidate_id"], first["mean_score"], first["pass_rate"]) == (right, 1.0, 1.0)
    assert (second["candidate_id"], second["mean_score"]) == (wrong, 0.1)
    assert first["ci95"] == [1.0, 1.0] and second["ci95"][0] < second["ci95"][1]
    assert second["tied_with_leader"] is False and first["pareto_front"] is True
    assert first["tokens_total"] == 150 and first["cost_usd_total"] == pytest.approx(0.001)
    detail = (await client.get(f"/api/leaderboards/{board}", headers=auth)).json()
    assert detail["leaderboard"]["chosen_leaderboard_model_id"] == right
    assert detail["ranking"]["run_id"] == run["id"] and detail["runs"][0]["id"] == run["id"]
    results = await client.get(f"/api/leaderboards/{board}/runs/{run['id']}/results", headers=auth)
    lines = [json.loads(line) for line in results.text.splitlines()]
    assert len(lines) == 20 and {line["row_id"] for line in lines} == {country for country, _ in CAPITALS}
    assert upstream.calls["echo"] == upstream.calls["const-Paris"] == 10  # no row called twice


async def test_failing_providers_fail_rows_not_the_run(client, auth, upstream, worker):
    board = await _push_board(client, auth, _capital_rows()[:3])
    good = await _candidate(client, auth, board, "good", upstream.model_url("echo"))
    broken = await _candidate(client, auth, board, "broken", upstream.model_url("fail"))
    garbage = await _candidate(client, auth, board, "garbage", upstream.model_url("garbage"))
    started = (await client.post(f"/api/leaderboards/{board}/run", headers=auth, json={})).json()
    run = await _finished(client, auth, board, started["id"], worker)
    assert run["status"] == "completed" and run["run_source"] == "api"
    by_id = {entry["candidate_id"]: entry for entry in run["ranking"]}
    assert by_id[good]["failures"] == 0 and by_id[good]["rank"] == 1
    assert by_id[broken]["failures"] == by_id[garbage]["failures"] == 3
    results = await client.get(f"/api/leaderboards/{board}/runs/{run['id']}/results", headers=auth)
    errors = {json.loads(line)["candidate_id"]: json.loads(line)["error"] for line in results.text.splitlines()}
    assert "upstream exploded" in errors[broken] and "ProviderBadResponse" in errors[garbage]


async def test_judge_runs_score_with_the_judge_model(client, auth, upstream, worker):
    board = await _push_board(client, auth, _capital_rows()[:4], eval_type="judge",
                              eval_metadata={"judge_provider": "Custom", "judge_url": f"{upstream.url}/judge/v1",
                                             "judge_model": "local-judge"})
    right = await _candidate(client, auth, board, "right", upstream.model_url("echo"))
    shouty = await _candidate(client, auth, board, "shouty", upstream.model_url("upper"))
    wrong = await _candidate(client, auth, board, "wrong", upstream.model_url("const-Oslo"))
    started = (await client.post(f"/api/leaderboards/{board}/run", headers=auth, json={})).json()
    run = await _finished(client, auth, board, started["id"], worker)
    scores = {entry["candidate_id"]: entry["mean_score"] for entry in run["ranking"]}
    assert scores == {right: 1.0, shouty: 1.0, wrong: 0.0}
    assert upstream.calls["judge"] == 12
    ties = {entry["candidate_id"]: entry["tied_with_leader"] for entry in run["ranking"]}
    assert ties[right] and ties[shouty] and not ties[wrong]


async def test_runs_refuse_unknown_models_and_empty_leaderboards(client, auth, upstream, worker):
    board = await _push_board(client, auth, _capital_rows()[:2])
    unknown = await client.post(f"/api/leaderboards/{board}/run", headers=auth,
                                json={"model_ids": ["LEADERBOARD_MODEL_ID_1"]})
    assert unknown.status_code == 422 and "LEADERBOARD_MODEL_ID_1" in unknown.text
    none = await client.post(f"/api/leaderboards/{board}/run", headers=auth, json={})
    assert none.status_code == 409 and none.json()["error"] == "no_candidates"
    empty = await _push_board(client, auth, [])
    await _candidate(client, auth, empty, "echo", upstream.model_url("echo"))
    started = (await client.post(f"/api/leaderboards/{empty}/run", headers=auth, json={})).json()
    run = await _finished(client, auth, empty, started["id"], worker)
    assert run["status"] == "failed" and "no consolidated rows" in run["error"]


async def test_cancelled_runs_stop_and_stay_cancelled(client, auth, upstream, deps):
    board = await _push_board(client, auth, _capital_rows())
    await _candidate(client, auth, board, "echo", upstream.model_url("echo"))
    started = (await client.post(f"/api/leaderboards/{board}/run", headers=auth, json={})).json()
    cancelled = await client.post(f"/api/leaderboards/{board}/runs/{started['id']}/cancel", headers=auth)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    deps.queue.start(runner(deps))
    try:
        await deps.queue.drain()
    finally:
        await deps.queue.stop()
    run = (await client.get(f"/api/leaderboards/{board}/runs/{started['id']}", headers=auth)).json()
    assert run["status"] == "cancelled" and upstream.calls["echo"] == 0
    again = await client.post(f"/api/leaderboards/{board}/runs/{started['id']}/cancel", headers=auth)
    assert again.status_code == 409


async def test_runs_are_listed_newest_first(client, auth, upstream, worker):
    board = await _push_board(client, auth, _capital_rows()[:2])
    await _candidate(client, auth, board, "echo", upstream.model_url("echo"))
    ids = [(await client.post(f"/api/leaderboards/{board}/run", headers=auth, json={})).json()["id"] for _ in range(3)]
    await worker.drain(timeout=60)
    page = (await client.get(f"/api/leaderboards/{board}/runs?limit=2&offset=0", headers=auth)).json()
    assert page["count"] == 3 and [run["id"] for run in page["data"]] == ids[::-1][:2]


async def test_human_runs_wait_for_every_score_then_rank(client, auth, upstream, worker):
    board = await _push_board(client, auth, _capital_rows()[:2], eval_type="human")
    good = await _candidate(client, auth, board, "good", upstream.model_url("echo"))
    bad = await _candidate(client, auth, board, "bad", upstream.model_url("const-Oslo"))
    started = (await client.post(f"/api/leaderboards/{board}/run", headers=auth, json={})).json()
    run = await _finished(client, auth, board, started["id"], worker)
    assert run["status"] == "awaiting_human"
    url = f"/api/leaderboards/{board}/runs/{run['id']}/annotations"
    queue = (await client.get(f"{url}?status=pending", headers=auth)).json()
    assert queue["count"] == 4 and {item["output"] for item in queue["data"]} == {"Paris", "Rome", "Oslo"}
    for item in queue["data"]:
        score = 1.0 if item["candidate_id"] == good else 0.25
        answer = await client.post(f"{url}/{item['id']}", headers=auth, json={"score": score, "comment": "ok"})
        assert answer.status_code == 200 and answer.json()["status"] == "scored"
    bad_score = await client.post(f"{url}/{queue['data'][0]['id']}", headers=auth, json={"score": 2})
    assert bad_score.status_code == 422
    run = await _finished(client, auth, board, run["id"], worker)
    assert run["status"] == "completed"
    assert {e["candidate_id"]: e["mean_score"] for e in run["ranking"]} == {good: 1.0, bad: 0.25}
    late = await client.post(f"{url}/{queue['data'][0]['id']}", headers=auth, json={"score": 0.5})
    assert late.status_code == 409
    assert (await client.get(f"{url}?status=pending", headers=auth)).json()["count"] == 0


async def test_auto_labels_fill_missing_answers_and_runs_use_them(client, auth, upstream, worker):
    rows = [{"id": "a", "input": "q\nalpha", "expected": "ALPHA"}, {"id": "b", "input": "q\nbeta"},
            {"id": "c", "input": "q\ngamma"}]
    board = await _push_board(client, auth, rows, eval_metadata={
        "labeler_provider": "Custom", "labeler_url": upstream.model_url("upper")})
    labels = await client.post(f"/v1/leaderboard/{board}/dataset/auto-labels", headers=auth)
    assert labels.status_code == 200, labels.text
    assert {k: labels.json()[k] for k in ("labeled", "already_labeled", "failed", "labels")} == \
        {"labeled": 2, "already_labeled": 0, "failed": 0, "labels": 2}
    again = (await client.post(f"/v1/leaderboard/{board}/dataset/auto-labels", headers=auth)).json()
    assert (again["labeled"], again["already_labeled"]) == (0, 2)
    await client.patch(f"/api/leaderboards/{board}", headers=auth, json={"dataset_auto_labels": True})
    shouty = await _candidate(client, auth, board, "shouty", upstream.model_url("upper"))
    started = (await client.post(f"/api/leaderboards/{board}/run", headers=auth, json={})).json()
    run = await _finished(client, auth, board, started["id"], worker)
    assert run["dataset"]["auto_labels"] == 2
    assert run["ranking"][0]["candidate_id"] == shouty and run["ranking"][0]["mean_score"] == 1.0


async def test_a_labeler_url_inside_the_network_is_refused(client, auth, upstream, deps):
    board = await _push_board(client, auth, [{"input": "q\nbeta"}], eval_metadata={
        "labeler_provider": "Custom", "labeler_url": upstream.model_url("upper")})
    deps.settings.allow_private_urls = False  # as in production
    refused = await client.post(f"/v1/leaderboard/{board}/dataset/auto-labels", headers=auth)
    assert refused.status_code == 409 and "The URL is not allowed or cannot be reached." in refused.json()["message"]
    assert upstream.calls["upper"] == 0


async def test_auto_labels_with_nothing_to_label_answer_zero_labelled_without_asking_a_labeler(client, auth, upstream):
    rows = [{"id": "a", "input": "q\nalpha", "expected": "ALPHA"}, {"id": "b", "input": "q\nbeta"}]
    board = await _push_board(client, auth, rows, eval_metadata={
        "labeler_provider": "Custom", "labeler_url": upstream.model_url("upper")})
    assert (await client.post(f"/v1/leaderboard/{board}/dataset/auto-labels", headers=auth)).json()["labeled"] == 1
    # No labeler can be reached any more (no OpenRouter key for the default one), and none is needed.
    await client.patch(f"/api/leaderboards/{board}", headers=auth, json={"eval_metadata": {}})
    answer = await client.post(f"/v1/leaderboard/{board}/dataset/auto-labels", headers=auth)
    assert answer.status_code == 200, answer.text
    assert {k: answer.json()[k] for k in ("rows", "labeled", "already_labeled", "failed", "labels")} == \
        {"rows": 1, "labeled": 0, "already_labeled": 1, "failed": 0, "labels": 1}
    answered = await _push_board(client, auth, [{"input": "q\nalpha", "expected": "ALPHA"}])
    answer = await client.post(f"/v1/leaderboard/{answered}/dataset/auto-labels", headers=auth)
    assert answer.status_code == 200, answer.text
    assert (answer.json()["rows"], answer.json()["labeled"], answer.json()["labels"]) == (0, 0, 0)
    assert upstream.calls["upper"] == 1


async def test_auto_labels_are_a_conflict_without_a_dataset_or_a_reachable_labeler(client, auth):
    no_dataset = await _push_board(client, auth, [])
    refused = await client.post(f"/v1/leaderboard/{no_dataset}/dataset/auto-labels", headers=auth)
    assert refused.status_code == 409 and refused.json()["error"] == "labels_unavailable"
    unanswered = await _push_board(client, auth, [{"input": "q\nbeta"}])  # the default labeler has no key here
    refused = await client.post(f"/v1/leaderboard/{unanswered}/dataset/auto-labels", headers=auth)
    assert refused.status_code == 409 and refused.json()["error"] == "labels_unavailable"


async def test_improve_dataset_consolidates_labels_and_drops_repeats(client, auth, upstream, worker):
    rows = [{"id": "1", "input": "q\nParis", "expected": "Paris"}, {"id": "2", "input": "q\nParis", "expected": "Paris"},
            {"id": "3", "input": "q\nRome"}]
    board = await _push_board(client, auth, [], eval_metadata={
        "labeler_provider": "Custom", "labeler_url": upstream.model_url("echo")})
    await client.post(f"/v1/leaderboard/{board}/dataset/push", json={"rows": rows}, headers=auth)
    await _candidate(client, auth, board, "echo", upstream.model_url("echo"))
    started = await client.post(f"/api/leaderboards/{board}/improve-dataset", headers=auth, json={})
    assert started.status_code == 202
    steps = started.json()["improvements"]
    assert steps["consolidation"]["merged_rows"] == 3 and steps["labels"]["labeled"] == 1
    run = await _finished(client, auth, board, started.json()["id"], worker)
    assert (run["rows"], run["dataset"]["dropped_rows"], run["dataset"]["auto_labels"]) == (2, 1, 1)
    assert run["trigger"] == "improve-dataset" and run["ranking"][0]["mean_score"] == 1.0


async def test_model_urls_inside_the_network_fail_their_rows_unless_allowed(client, auth, upstream, deps, worker):
    board = await _push_board(client, auth, _capital_rows()[:2])
    candidate = await _candidate(client, auth, board, "echo", upstream.model_url("echo"))
    deps.settings.allow_private_urls = False  # as in production, after the candidate was added
    started = (await client.post(f"/api/leaderboards/{board}/run", headers=auth, json={})).json()
    run = await _finished(client, auth, board, started["id"], worker)
    [entry] = run["ranking"]
    assert (entry["candidate_id"], entry["failures"]) == (candidate, 2)
    assert upstream.calls["echo"] == 0
