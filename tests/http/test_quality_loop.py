"""The quality loop end to end on a local upstream whose answers go bad mid-test.

Production calls are scored online (exact match against the expected answer they carry);
the chosen model's quality drops; the quality_drop trigger starts one run; its winner, the
other candidate, becomes the chosen model and answers the next calls. The scenario itself
is bench/quality_loop.py, which also times it.
"""

from __future__ import annotations

import asyncio
import uuid

import pytest

from bench.quality_loop import scenario
from shared.domain.times import iso
from shared.domain.trace import Trace
from shared.services import quality, quality_loop
from shared.stores.traces import Traces
from tests.conftest import make_settings
from tests.upstream import running_upstream


@pytest.fixture
def settings(tmp_path):
    return make_settings(tmp_path, allow_private_urls=True)


@pytest.fixture
def upstream():
    with running_upstream() as server:
        yield server


async def test_a_quality_drop_reruns_the_leaderboard_once_and_moves_inference_to_the_winner(
        client, auth, upstream, worker, capsys):
    report = await scenario(client, auth, upstream, worker)
    with capsys.disabled():
        print(f"\nquality loop: first bad call -> other model chosen in {report.seconds * 1000:.0f} ms")

    assert report.answered_after == report.other
    by_trigger = sorted((run["run_source"], run["trigger"] or "") for run in report.runs)
    assert by_trigger == [("api", ""), ("schedule", "quality_drop")]  # fired exactly once
    fired = next(run for run in report.runs if run["trigger"] == "quality_drop")
    assert fired["status"] == "completed" and fired["winner_id"] == report.other

    traces = (await client.get(f"/v1/leaderboard/{report.board}/traces?limit=100", headers=auth)).json()["data"]
    verdicts = [(t["candidate_id"], t["online_eval"]["score"]) for t in traces]
    assert all(t["online_eval"]["status"] == "scored" and t["online_eval"]["evaluator"] == "exact" for t in traces)
    assert verdicts.count((report.good, 0.0)) == 3 and verdicts.count((report.good, 1.0)) == 5
    assert {score for candidate, score in verdicts if candidate == report.other} == {1.0}

    quality = (await client.get(f"/v1/leaderboard/{report.board}/quality", headers=auth)).json()
    series = {s["candidate_id"]: s for s in quality["series"]}
    [good_day] = series[report.good]["points"]
    assert (good_day["count"], good_day["mean"]) == (8, 5 / 8)
    assert series[report.other]["chosen"] is True and series[report.good]["chosen"] is False
    assert series[report.good]["baseline"] == 0.0  # the quality_drop run's ranking


async def test_the_trigger_waits_for_its_minimum_of_samples(client, auth, upstream, worker):
    board = (await client.post("/api/leaderboards", headers=auth, json={
        "name": "Cities", "system_prompt": "{input}", "dataset_type": "PUSH", "eval_type": "exact"})).json()
    board = board["leaderboard"]["id"]
    await client.post(f"/v1/leaderboard/{board}/dataset/push", headers=auth,
                      json={"rows": [{"input": "x\nParis", "expected": "Paris"}]})
    await client.post(f"/v1/leaderboard/{board}/dataset/consolidate", headers=auth)
    model = (await client.post(f"/api/leaderboards/{board}/models", headers=auth, json={
        "name": "a", "platform": "Custom", "model_url": upstream.model_url("switch-b")})).json()["id"]
    await client.post(f"/api/leaderboards/{board}/run", headers=auth, json={})
    await worker.drain(timeout=60)
    await client.patch(f"/api/leaderboards/{board}", headers=auth, json={
        "online_eval": {"sample_rate": 1},
        "schedule": {"version": 2, "triggers": {"quality_drop": {"enabled": True, "min_samples": 4}}}})
    upstream.switches["b"] = "bad"
    for _ in range(3):
        answer = await client.post(f"/v1/leaderboard/{board}/inference", headers=auth,
                                   json={"input": "x\nRome", "expected": "Rome"})
        assert answer.json()["model"]["id"] == model
    await worker.drain(timeout=60)
    runs = (await client.get(f"/api/leaderboards/{board}/runs", headers=auth)).json()["data"]
    assert len(runs) == 1  # three bad samples of four needed: no run yet
    await client.post(f"/v1/leaderboard/{board}/inference", headers=auth, json={"input": "x\nRome", "expected": "Rome"})
    await worker.drain(timeout=60)
    runs = (await client.get(f"/api/leaderboards/{board}/runs", headers=auth)).json()["data"]
    assert [run["trigger"] for run in runs] == ["quality_drop", None]


async def _ranked_board(client, auth, deps, upstream) -> tuple[str, str]:
    """A leaderboard whose chosen model ranked 1.0, with the trigger on (3 samples, drop 0.1); no worker runs."""
    board = (await client.post("/api/leaderboards", headers=auth, json={
        "name": "Cities", "system_prompt": "{input}", "dataset_type": "PUSH", "eval_type": "exact"})).json()
    board = board["leaderboard"]["id"]
    model = (await client.post(f"/api/leaderboards/{board}/models", headers=auth, json={
        "name": "a", "platform": "Custom", "model_url": upstream.model_url("echo")})).json()["id"]
    await client.post(f"/v1/leaderboard/{board}/dataset/push", headers=auth, json={"input": "x", "expected": "x"})
    await client.post(f"/v1/leaderboard/{board}/dataset/consolidate", headers=auth)
    await deps.documents.update("leaderboards", board, {"chosen_leaderboard_model_id": model, "latest_ranking": {
        "run_id": "r", "at": "t", "ranking": [{"candidate_id": model, "mean_score": 1.0}]}})
    response = await client.patch(f"/api/leaderboards/{board}", headers=auth, json={"schedule": {
        "version": 2, "triggers": {"quality_drop": {"enabled": True, "min_samples": 3, "drop": 0.1}}}})
    assert response.status_code == 200, response.text
    return board, model


async def _bad_samples(deps, board: str, model: str, count: int) -> None:
    for _ in range(count):
        trace = Trace(id=str(uuid.uuid4()), workspace_id="w", leaderboard_id=board, input="q", status="ok",
                      output="no", candidate_id=model, created_at=iso(deps.clock.now()))
        await Traces(deps.documents).create(trace)
        await quality.record(deps, trace.id, {"status": "scored", "score": 0.0})


async def test_the_trigger_fires_once_per_drop_and_again_only_on_fresh_samples(client, auth, deps, clock, upstream):
    board, model = await _ranked_board(client, auth, deps, upstream)
    stored = await client.get(f"/api/leaderboards/{board}", headers=auth)
    assert stored.json()["leaderboard"]["schedule"]["triggers"] == {
        "quality_drop": {"enabled": True, "min_samples": 3, "drop": 0.1}}
    await _bad_samples(deps, board, model, 2)
    assert await quality_loop.look(deps, board, model) is None  # 2 of 3 samples
    await _bad_samples(deps, board, model, 1)
    looks = await asyncio.gather(*(quality_loop.look(deps, board, model) for _ in range(4)))
    [run] = [found for found in looks if found is not None]  # concurrent looks: one fires
    assert (run.run_source, run.trigger) == ("schedule", "quality_drop")
    await _bad_samples(deps, board, model, 3)
    assert await quality_loop.look(deps, board, model) is None  # its run is still queued
    await deps.documents.update("runs", run.id, {"status": "completed"})
    assert await quality_loop.look(deps, board, model) is None  # the samples are from before the firing
    clock.advance(hours=1)
    await _bad_samples(deps, board, model, 2)
    assert await quality_loop.look(deps, board, model) is None  # 2 fresh samples of 3
    await _bad_samples(deps, board, model, 1)
    again = await quality_loop.look(deps, board, model)
    assert again is not None and again.id != run.id


async def test_a_paused_leaderboard_or_another_model_never_fires(client, auth, deps, clock, upstream):
    board, model = await _ranked_board(client, auth, deps, upstream)
    await _bad_samples(deps, board, model, 5)
    assert await quality_loop.look(deps, board, "another-candidate") is None
    await client.patch(f"/api/leaderboards/{board}", headers=auth, json={"status": "paused"})
    assert await quality_loop.look(deps, board, model) is None
    await client.patch(f"/api/leaderboards/{board}", headers=auth, json={"status": "active"})
    assert await quality_loop.look(deps, board, model) is not None


@pytest.mark.parametrize("trigger", [{"enabled": True, "drop": 0}, {"enabled": True, "drop": 1.5},
                                     {"enabled": True, "min_samples": 0}, {"enabled": True, "window_hours": 169},
                                     {"enabled": True, "window": 3}])
async def test_bad_quality_drop_triggers_are_422(client, auth, trigger):
    board = (await client.post("/api/leaderboards", headers=auth, json={
        "name": "b", "system_prompt": "{input}", "dataset_type": "PUSH"})).json()["leaderboard"]["id"]
    response = await client.patch(f"/api/leaderboards/{board}", headers=auth, json={"schedule": {
        "version": 2, "triggers": {"quality_drop": trigger}}})
    assert response.status_code == 422 and response.json()["error"] == "validation_error"
