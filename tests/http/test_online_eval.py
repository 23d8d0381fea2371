"""Online evaluation through the HTTP API: validation, exact sampling, conditions, redelivery, budgets, export."""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid

import pytest

from shared.domain.online_eval import matches, sampled
from shared.domain.trace import Trace
from shared.services import online_eval, quality, spend
from shared.stores.leaderboards import Leaderboards
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


def _independent_pick(trace_id: str, seed: int, rate: float) -> bool:
    """The documented definition, written out again: SHA-256 of "seed:id", first 64 bits vs rate x 2**64."""
    first_64_bits = int(hashlib.sha256(f"{seed}:{trace_id}".encode()).hexdigest()[:16], 16)
    return first_64_bits < int(rate * 18446744073709551616)


async def _board(client, auth, upstream, behaviour="echo", **fields) -> tuple[str, str]:
    board = (await client.post("/api/leaderboards", headers=auth, json={
        "name": "Support", "system_prompt": "Answer.\n{input}", "dataset_type": "PUSH", **fields})).json()
    board = board["leaderboard"]["id"]
    model = (await client.post(f"/api/leaderboards/{board}/models", headers=auth, json={
        "name": behaviour, "platform": "Custom", "model_url": upstream.model_url(behaviour)})).json()["id"]
    await client.patch(f"/api/leaderboards/{board}", headers=auth, json={"chosen_leaderboard_model_id": model})
    return board, model


async def _traces(client, auth, board) -> list[dict]:
    return (await client.get(f"/v1/leaderboard/{board}/traces?limit=500", headers=auth)).json()["data"]


# --- the sampler ------------------------------------------------------------------------------


@pytest.mark.parametrize(("seed", "rate"), [(0, 0.1), (7, 0.137), (2024, 0.5), (3, 0.0), (3, 1.0)])
def test_the_sampler_picks_exactly_what_its_definition_says(seed, rate):
    ids = [str(uuid.uuid5(uuid.NAMESPACE_URL, f"trace-{n}")) for n in range(10_000)]
    expected = sum(_independent_pick(trace_id, seed, rate) for trace_id in ids)
    assert sum(sampled(trace_id, seed, rate) for trace_id in ids) == expected
    assert abs(expected - rate * 10_000) <= 4 * (rate * (1 - rate) * 10_000) ** 0.5 + 1e-9  # a fair coin, too
    if 0 < rate < 1:  # another seed picks other traces
        assert [sampled(t, seed + 1, rate) for t in ids] != [sampled(t, seed, rate) for t in ids]


async def test_inference_queues_exactly_the_sampled_traces(client, auth, upstream, worker):
    board, _ = await _board(client, auth, upstream)
    await client.patch(f"/api/leaderboards/{board}", headers=auth,
                       json={"online_eval": {"sample_rate": 0.3, "seed": 11}})
    for n in range(60):
        await client.post(f"/v1/leaderboard/{board}/inference", headers=auth,
                          json={"input": f"q{n}\nanswer {n}", "expected": f"answer {n}"})
    await worker.drain(timeout=60)
    traces = await _traces(client, auth, board)
    scored = {t["id"] for t in traces if t["online_eval"] is not None}
    assert scored == {t["id"] for t in traces if _independent_pick(t["id"], 11, 0.3)}
    assert 0 < len(scored) < 60
    assert all(t["online_eval"]["score"] == 1.0 for t in traces if t["id"] in scored)


# --- conditions -------------------------------------------------------------------------------


def _trace(**fields) -> Trace:
    base = {"id": "t", "workspace_id": "w", "leaderboard_id": "l", "input": "x", "created_at": "2026-01-01T00:00:00Z",
            "status": "ok", "candidate_id": "c1", "metadata": {"tier": "gold", "beta": True, "n": 1}}
    return Trace(**{**base, **fields})


@pytest.mark.parametrize(("conditions", "trace", "expected"), [
    ({}, _trace(), True),
    ({}, _trace(status="error"), False),  # only answered traces unless told otherwise
    ({"status": ["ok", "error"]}, _trace(status="error"), True),
    ({"metadata": {"tier": "gold"}}, _trace(), True),
    ({"metadata": {"tier": "silver"}}, _trace(), False),
    ({"metadata": {"missing": "x"}}, _trace(), False),
    ({"metadata": {"beta": True}}, _trace(), True),
    ({"metadata": {"n": True}}, _trace(), False),  # 1 is not true
    ({"metadata": {"beta": 1}}, _trace(), False),
    ({"models": ["c2"]}, _trace(), False),
    ({"models": ["c1", "c2"], "metadata": {"tier": "gold"}}, _trace(), True),
])
def test_conditions(conditions, trace, expected):
    assert matches({"status": ["ok"], **conditions}, trace) is expected


async def test_conditions_decide_which_traces_are_scored(client, auth, upstream, worker):
    board, model = await _board(client, auth, upstream)
    response = await client.patch(f"/api/leaderboards/{board}", headers=auth, json={"online_eval": {
        "sample_rate": 1, "conditions": {"metadata": {"tier": "gold"}, "models": [model]}}})
    assert response.status_code == 200, response.text
    assert response.json()["leaderboard"]["online_eval"]["conditions"] == {"metadata": {"tier": "gold"}, "models": [model],
                                                            "status": ["ok"]}
    for tier in ("gold", "free", "gold"):
        await client.post(f"/v1/leaderboard/{board}/inference", headers=auth,
                          json={"input": "q\nyes", "metadata": {"tier": tier, "expected": "yes"}})
    await worker.drain(timeout=60)
    verdicts = sorted((t["metadata"]["tier"], (t["online_eval"] or {}).get("score"))
                      for t in await _traces(client, auth, board))
    assert verdicts == [("free", None), ("gold", 1.0), ("gold", 1.0)]  # metadata.expected is read too


async def test_failed_calls_score_zero_when_their_status_is_selected(client, auth, upstream, worker):
    board, model = await _board(client, auth, upstream, behaviour="fail")
    await client.patch(f"/api/leaderboards/{board}", headers=auth, json={"online_eval": {
        "sample_rate": 1, "conditions": {"status": ["error"]}}})
    response = await client.post(f"/v1/leaderboard/{board}/inference", headers=auth, json={"input": "q"})
    assert response.status_code == 502
    await worker.drain(timeout=60)
    [trace] = await _traces(client, auth, board)
    assert trace["online_eval"]["score"] == 0.0 and trace["online_eval"]["evaluator"] == "none"
    # Nobody answered: the zero counts against the model that was tried first, the chosen one.
    [series] = (await client.get(f"/v1/leaderboard/{board}/quality", headers=auth)).json()["series"]
    assert series["candidate_id"] == model and series["points"][0]["count"] == 1


@pytest.mark.parametrize(("online_eval", "field"), [
    ({"sample_rate": 1.5}, "sample_rate"),
    ({"sample_rate": -0.1}, "sample_rate"),
    ({}, "sample_rate"),
    ({"sample_rate": "lots"}, "sample_rate"),
    ({"sample_rate": 0.5, "conditions": {"status": ["maybe"]}}, "status"),
    ({"sample_rate": 0.5, "conditions": {"user": "x"}}, "user"),
    ({"sample_rate": 0.5, "conditions": {"metadata": {"tier": {"nested": 1}}}}, "metadata"),
    ({"sample_rate": 0.5, "judge": {"provider": "Skynet"}}, "provider"),
    ({"sample_rate": 0.5, "conditions": {"models": ["not-a-candidate"]}}, "online_eval.conditions.models"),
])
async def test_bad_settings_are_422_naming_the_field(client, auth, upstream, online_eval, field):
    board, _ = await _board(client, auth, upstream)
    response = await client.patch(f"/api/leaderboards/{board}", headers=auth, json={"online_eval": online_eval})
    assert response.status_code == 422, response.text
    named = json.dumps(response.json()["details"]).replace("_", "").lower()
    assert response.json()["error"] == "validation_error" and field.replace("_", "").lower() in named


async def test_a_new_leaderboard_takes_the_setting_and_null_clears_it(client, auth, upstream):
    created = await client.post("/api/leaderboards", headers=auth, json={
        "name": "s", "system_prompt": "{input}", "dataset_type": "PUSH",
        "onlineEval": {"sampleRate": 0.25, "judge": {"provider": "custom", "url": "http://judge.example/v1"}}})
    assert created.status_code == 201, created.text
    board = created.json()["leaderboard"]
    assert board["online_eval"] == {"enabled": True, "sample_rate": 0.25, "seed": 0, "conditions": {
        "metadata": {}, "models": None, "status": ["ok"]}, "judge": {"provider": "Custom", "model": None,
                                                                     "url": "http://judge.example/v1"}}
    cleared = await client.patch(f"/api/leaderboards/{board['id']}", headers=auth, json={"online_eval": None})
    assert cleared.status_code == 200 and cleared.json()["leaderboard"]["online_eval"] is None


# --- the scoring task: judge, redelivery, budget ------------------------------------------------


async def _judged_board(client, auth, upstream, **fields) -> str:
    board, _ = await _board(client, auth, upstream, **fields)
    await client.patch(f"/api/leaderboards/{board}", headers=auth, json={"online_eval": {
        "sample_rate": 1, "judge": {"provider": "Custom", "url": f"{upstream.url}/judge/v1"}}})
    return board


async def test_a_redelivered_scoring_task_records_one_verdict(client, auth, upstream, deps):
    board = await _judged_board(client, auth, upstream)
    # No worker: the queued task is delivered by hand, three times (twice at once).
    answer = (await client.post(f"/v1/leaderboard/{board}/inference", headers=auth, json={"input": "q\nhi"})).json()
    payload = {"trace_id": answer["trace_id"]}
    await asyncio.gather(online_eval.score_task(deps, payload), online_eval.score_task(deps, payload))
    await online_eval.score_task(deps, payload)
    trace = await Traces(deps.documents).get(answer["trace_id"])
    assert trace.online_eval["status"] == "scored" and trace.online_eval["evaluator"] == "judge"
    assert trace.online_eval["reasoning"] == "compared with the reference" and trace.online_eval["judged_at"]
    assert upstream.calls["judge"] <= 2  # the late redelivery asked nobody
    day = (await quality.series(deps, await _stored_board(deps, board), 1, None))["series"][0]["points"][0]
    assert day["count"] == 1


async def _stored_board(deps, board_id):
    return await Leaderboards(deps.documents).get(board_id)


async def test_judge_calls_spend_the_budget_and_stop_when_it_is_spent(client, auth, upstream, worker, deps):
    # Each model call and each judge call costs $0.0001; the budget holds a bit over two.
    board = await _judged_board(client, auth, upstream, constraints={"monthly_budget_usd": 0.00025})
    first = await client.post(f"/v1/leaderboard/{board}/inference", headers=auth, json={"input": "q\none"})
    await worker.drain(timeout=60)
    assert await spend.month_to_date(deps, board) == pytest.approx(0.0002)  # the call and its judge
    second = await client.post(f"/v1/leaderboard/{board}/inference", headers=auth, json={"input": "q\ntwo"})
    assert second.status_code == 200  # 0.0002 spent: inference may still answer
    await worker.drain(timeout=60)
    verdicts = {t["id"]: t["online_eval"] for t in await _traces(client, auth, board)}
    assert verdicts[first.json()["trace_id"]]["status"] == "scored"
    skipped = verdicts[second.json()["trace_id"]]
    assert skipped["status"] == "skipped" and skipped["reason"] == "budget_exceeded" and "score" not in skipped
    assert upstream.calls["judge"] == 1
    assert await spend.month_to_date(deps, board) == pytest.approx(0.0003)


async def test_exact_scoring_goes_on_past_the_budget(client, auth, upstream, worker, deps):
    board, _ = await _board(client, auth, upstream)
    await client.patch(f"/api/leaderboards/{board}", headers=auth, json={"online_eval": {"sample_rate": 1}})
    await spend.add(deps, "w", board, 5.0)
    await client.patch(f"/api/leaderboards/{board}", headers=auth, json={"constraints": {"monthly_budget_usd": 10}})
    await client.post(f"/v1/leaderboard/{board}/inference", headers=auth, json={"input": "q\nok", "expected": "ok"})
    await client.patch(f"/api/leaderboards/{board}", headers=auth, json={"constraints": {"monthly_budget_usd": 1}})
    await worker.drain(timeout=60)
    [trace] = await _traces(client, auth, board)
    assert trace["online_eval"]["status"] == "scored" and trace["online_eval"]["evaluator"] == "exact"


# --- the quality series in the export -----------------------------------------------------------


async def test_the_jsonl_export_ends_with_the_quality_series_when_asked(client, auth, upstream, worker):
    board, model = await _board(client, auth, upstream)
    await client.patch(f"/api/leaderboards/{board}", headers=auth, json={"online_eval": {"sample_rate": 1}})
    for answer, expected in (("a", "a"), ("b", "b"), ("c", "not c")):
        await client.post(f"/v1/leaderboard/{board}/inference", headers=auth,
                          json={"input": f"q\n{answer}", "expected": expected})
    await worker.drain(timeout=60)
    plain = (await client.get(f"/v1/leaderboard/{board}/traces?format=jsonl", headers=auth)).text.splitlines()
    assert len(plain) == 3 and all("online_eval" in json.loads(line) for line in plain)
    lines = (await client.get(f"/v1/leaderboard/{board}/traces?format=jsonl&quality_days=3",
                              headers=auth)).text.splitlines()
    assert len(lines) == 4
    closing = json.loads(lines[-1])["quality"]
    [series] = closing["series"]
    assert series["candidate_id"] == model and series["chosen"] is True
    [point] = series["points"]
    assert point["count"] == 3 and point["mean"] == pytest.approx(2 / 3)
    assert 0 <= point["ci95"][0] <= 2 / 3 <= point["ci95"][1] <= 1
    endpoint = (await client.get(f"/v1/leaderboard/{board}/quality?days=3", headers=auth)).json()
    assert endpoint == closing
    other = (await client.get(f"/v1/leaderboard/{board}/quality?model=nobody", headers=auth)).json()
    assert other["series"] == []
    assert (await client.get(f"/v1/leaderboard/{board}/quality?days=0", headers=auth)).status_code == 422


def test_days_beyond_the_bootstrap_cap_get_a_normal_interval():
    half = 1.959964 * ((3000 * 0.25 / 2999) / 3000) ** 0.5
    low, high = quality.interval({"0": 1500, "100": 1500})
    assert (low, high) == (pytest.approx(0.5 - half), pytest.approx(0.5 + half))
    small = quality.interval({"0": 5, "100": 15})
    assert small[0] < 0.75 < small[1] and small != quality.interval({"0": 15, "100": 5})
