"""Inference through the chosen model, fallback along the ranking, and traces (json and jsonl)."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from functions.server import create_app
from tests.conftest import make_settings
from tests.upstream import running_upstream


@pytest.fixture
def settings(tmp_path):
    return make_settings(tmp_path, allow_private_urls=True)


@pytest.fixture
def upstream():
    with running_upstream() as server:
        yield server


async def _board_with(client, auth, upstream, *behaviours) -> tuple[str, list[str]]:
    board = (await client.post("/api/leaderboards", headers=auth, json={
        "name": "Support", "system_prompt": "Answer briefly.\n{input}", "dataset_type": "PUSH"})).json()["leaderboard"]["id"]
    ids = []
    for behaviour in behaviours:
        created = await client.post(f"/api/leaderboards/{board}/models", headers=auth, json={
            "name": behaviour, "platform": "Custom", "model_url": upstream.model_url(behaviour)})
        ids.append(created.json()["id"])
    return board, ids


async def test_inference_answers_with_the_chosen_model_and_leaves_a_trace(client, auth, upstream):
    board, [chosen] = await _board_with(client, auth, upstream, "upper")
    await client.patch(f"/api/leaderboards/{board}", headers=auth, json={"chosen_leaderboard_model_id": chosen})
    response = await client.post(f"/v1/leaderboard/{board}/inference", headers=auth,
                                 json={"input": "hello there", "metadata": {"user_id": "u1"}})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["output"] == "HELLO THERE" and body["model"] == {"id": chosen, "name": "upper"}
    assert body["usage"]["total_tokens"] == 15 and body["cost_usd"] == 0.0001 and body["fallback"] is False
    assert response.headers["X-DrGero-Trace-Id"] == body["trace_id"]
    assert response.headers["X-DrGero-Model"] == chosen
    traces = (await client.get(f"/v1/leaderboard/{board}/traces", headers=auth)).json()
    [trace] = traces["data"]
    assert (trace["id"], trace["status"], trace["input"], trace["output"]) == \
        (body["trace_id"], "ok", "hello there", "HELLO THERE")
    assert trace["metadata"] == {"user_id": "u1"} and trace["latency_ms"] > 0


async def test_messages_are_sent_as_a_conversation(client, auth, upstream):
    board, [chosen] = await _board_with(client, auth, upstream, "echo")
    await client.patch(f"/api/leaderboards/{board}", headers=auth, json={"chosen_leaderboard_model_id": chosen})
    response = await client.post(f"/v1/leaderboard/{board}/inference", headers=auth, json={
        "messages": [{"role": "user", "content": "first"}, {"role": "user", "content": "second"}]})
    assert response.json()["output"] == "second"


async def test_a_failing_chosen_model_falls_back_along_the_ranking(client, auth, upstream, deps):
    board, [broken, backup] = await _board_with(client, auth, upstream, "fail", "upper")
    ranking = [{"candidate_id": broken}, {"candidate_id": backup}]
    await deps.documents.update("leaderboards", board, {"chosen_leaderboard_model_id": broken,
                                                        "latest_ranking": {"run_id": "r", "at": "t", "ranking": ranking}})
    response = await client.post(f"/v1/leaderboard/{board}/inference", headers=auth, json={"input": "hi"})
    assert response.status_code == 200 and response.json()["fallback"] is True
    assert response.headers["X-DrGero-Model"] == backup and response.headers["X-DrGero-Fallback"] == "true"
    [trace] = (await client.get(f"/v1/leaderboard/{board}/traces", headers=auth)).json()["data"]
    assert trace["attempted"] == [broken, backup] and trace["candidate_id"] == backup


async def test_when_every_model_fails_the_answer_is_502_with_the_trace(client, auth, upstream):
    board, [broken] = await _board_with(client, auth, upstream, "garbage")
    await client.patch(f"/api/leaderboards/{board}", headers=auth, json={"chosen_leaderboard_model_id": broken})
    response = await client.post(f"/v1/leaderboard/{board}/inference", headers=auth, json={"input": "hi"})
    assert response.status_code == 502
    body = response.json()
    assert body["error"] == "provider_error" and body["trace_id"] == response.headers["X-DrGero-Trace-Id"]
    [trace] = (await client.get(f"/v1/leaderboard/{board}/traces?status=error", headers=auth)).json()["data"]
    assert trace["id"] == body["trace_id"] and "chat completion" in trace["error"]


async def test_inference_needs_a_chosen_model_and_a_well_formed_body(client, auth, upstream, tenants):
    board, _ = await _board_with(client, auth, upstream, "echo")
    none = await client.post(f"/v1/leaderboard/{board}/inference", headers=auth, json={"input": "hi"})
    assert none.status_code == 409 and none.json()["error"] == "no_chosen_model"
    for body in ({}, {"input": "a", "messages": [{"role": "user", "content": "b"}]}, {"input": 5},
                 {"messages": [{"role": "wizard", "content": "x"}]}):
        assert (await client.post(f"/v1/leaderboard/{board}/inference", headers=auth, json=body)).status_code == 422
    reader = await tenants.headers("acme", scopes=("leaderboards:read",))
    assert (await client.post(f"/v1/leaderboard/{board}/inference", headers=reader,
                              json={"input": "x"})).status_code == 403


async def test_traces_filter_by_time_status_and_model_and_export_as_jsonl(client, auth, upstream, deps, clock):
    board, [chosen] = await _board_with(client, auth, upstream, "echo")
    await client.patch(f"/api/leaderboards/{board}", headers=auth, json={"chosen_leaderboard_model_id": chosen})
    for n in range(5):
        await client.post(f"/v1/leaderboard/{board}/inference", headers=auth, json={"input": f"q{n}"})
        clock.advance(hours=1)
    url = f"/v1/leaderboard/{board}/traces"
    window = (await client.get(f"{url}?since=2026-03-14T10:00:00Z&until=2026-03-14T12:00:00Z", headers=auth)).json()
    assert [t["input"] for t in window["data"]] == ["q2", "q1"] and window["count"] == 2
    page = (await client.get(f"{url}?limit=2&offset=1&model={chosen}", headers=auth)).json()
    assert [t["input"] for t in page["data"]] == ["q3", "q2"] and page["count"] == 5
    assert (await client.get(f"{url}?status=error", headers=auth)).json()["count"] == 0
    exported = await client.get(f"{url}?format=ndjson", headers=auth)
    assert exported.headers["content-type"].startswith("application/x-ndjson")
    assert [json.loads(line)["input"] for line in exported.text.splitlines()] == ["q4", "q3", "q2", "q1", "q0"]
    assert (await client.get(f"{url}?since=yesterday", headers=auth)).status_code == 422


async def test_a_monthly_budget_warns_then_refuses_and_resets_next_month(client, auth, upstream, clock):
    board, [chosen] = await _board_with(client, auth, upstream, "echo")
    await client.patch(f"/api/leaderboards/{board}", headers=auth, json={
        "chosen_leaderboard_model_id": chosen, "constraints": {"monthly_budget_usd": 0.00025}})
    states = []
    for _ in range(4):  # each call costs 0.0001 at the local upstream
        response = await client.post(f"/v1/leaderboard/{board}/inference", headers=auth, json={"input": "x"})
        states.append((response.status_code, response.headers.get("X-DrGero-Budget-State")))
    assert states == [(200, "ok"), (200, "ok"), (200, "warning"), (402, "exceeded")]
    assert response.json()["error"] == "budget_exceeded"
    assert response.headers["X-DrGero-Budget-Remaining-Usd"] == "0.000000"
    clock.advance(days=31)
    fresh = await client.post(f"/v1/leaderboard/{board}/inference", headers=auth, json={"input": "x"})
    assert (fresh.status_code, fresh.headers["X-DrGero-Budget-State"]) == (200, "ok")


async def test_without_a_budget_there_are_no_budget_headers(client, auth, upstream):
    board, [chosen] = await _board_with(client, auth, upstream, "echo")
    await client.patch(f"/api/leaderboards/{board}", headers=auth, json={"chosen_leaderboard_model_id": chosen})
    response = await client.post(f"/v1/leaderboard/{board}/inference", headers=auth, json={"input": "x"})
    assert "X-DrGero-Budget-State" not in response.headers


async def test_traces_can_flow_into_the_push_dataset(client, auth, upstream):
    board, [chosen] = await _board_with(client, auth, upstream, "upper")
    await client.patch(f"/api/leaderboards/{board}", headers=auth, json={
        "chosen_leaderboard_model_id": chosen, "dataset_metadata": {"capture_traces_to_dataset": True}})
    answer = (await client.post(f"/v1/leaderboard/{board}/inference", headers=auth,
                                json={"input": "capture me", "metadata": {"user_id": "u9", "source_id": "evt-7"}})).json()
    [trace] = (await client.get(f"/v1/leaderboard/{board}/traces", headers=auth)).json()["data"]
    [item] = (await client.get(f"/v1/leaderboard/{board}/dataset/items", headers=auth)).json()["data"]
    assert (item["state"], item["ref_trace_id"], item["ref_timestamp"], item["ref_source_id"], item["source"]) == \
        ("pending", answer["trace_id"], trace["created_at"], "evt-7", "inference")
    await client.post(f"/v1/leaderboard/{board}/dataset/consolidate", headers=auth)
    rows = [json.loads(line) for line in (await client.get(f"/v1/leaderboard/{board}/dataset", headers=auth)).text.splitlines()]
    assert [(r["input"], r["expected"]) for r in rows] == [("capture me", "CAPTURE ME")]
    assert rows[0]["metadata"]["trace_id"] == answer["trace_id"] and rows[0]["metadata"]["user_id"] == "u9"
    assert (rows[0]["ref_trace_id"], rows[0]["ref_source_id"]) == (answer["trace_id"], "evt-7")
    status = (await client.get(f"/v1/leaderboard/{board}/dataset/status", headers=auth)).json()
    assert status["quota"]["used_today"] == 1


async def test_inference_gives_up_at_its_deadline_with_a_502(client, auth, upstream, deps):
    deps.settings.inference_timeout_seconds = 0.5
    board, [slow] = await _board_with(client, auth, upstream, "slow")
    await client.patch(f"/api/leaderboards/{board}", headers=auth, json={"chosen_leaderboard_model_id": slow})
    started = time.monotonic()
    response = await client.post(f"/v1/leaderboard/{board}/inference", headers=auth, json={"input": "x"})
    assert time.monotonic() - started < 1.5
    assert response.status_code == 502 and "slow: timeout" in response.json()["message"]
    [trace] = (await client.get(f"/v1/leaderboard/{board}/traces", headers=auth)).json()["data"]
    assert "no answer within 0.5 s" in trace["failures"][0]["detail"]


async def test_a_model_url_inside_the_network_is_refused_at_call_time(client, auth, upstream, deps):
    board, [local] = await _board_with(client, auth, upstream, "echo")
    await client.patch(f"/api/leaderboards/{board}", headers=auth, json={"chosen_leaderboard_model_id": local})
    deps.settings.allow_private_urls = False  # as in production, after the candidate was added
    for path, body in ((f"/v1/leaderboard/{board}/inference", {"input": "hi"}),
                       (f"/v1/leaderboard/{board}/chat/completions",
                        {"model": "x", "messages": [{"role": "user", "content": "hi"}], "stream": True})):
        refused = await client.post(path, headers=auth, json=body)
        assert refused.status_code == 502 and refused.headers["X-DrGero-Trace-Id"]
        assert "echo: unreachable" in refused.text  # the same word as a URL that does not answer
    traces = (await client.get(f"/v1/leaderboard/{board}/traces", headers=auth)).json()["data"]
    assert all("The URL is not allowed or cannot be reached." in t["failures"][0]["detail"] for t in traces)
    assert upstream.calls["echo"] == 0


class _Timeline:
    """What happened in which order: store writes, and the moment the last response byte went out."""

    def __init__(self, deps) -> None:
        self.events: list[str] = []
        create, transact = deps.documents.create, deps.documents.run_transaction

        async def recorded_create(collection, doc_id, data):
            self.events.append(f"create {collection}")
            return await create(collection, doc_id, data)

        async def recorded_transaction(fn):
            self.events.append("transaction")
            return await transact(fn)

        deps.documents.create, deps.documents.run_transaction = recorded_create, recorded_transaction

    def app(self, app):
        async def recorded(scope, receive, send):
            async def sending(message):
                if message["type"] == "http.response.body" and not message.get("more_body"):
                    self.events.append("response sent")
                await send(message)

            await app(scope, receive, sending)

        return recorded


@pytest.mark.parametrize("path, body", [
    ("inference", {"input": "hi"}),
    ("chat/completions", {"messages": [{"role": "user", "content": "hi"}]}),
    ("chat/completions", {"messages": [{"role": "user", "content": "hi"}], "stream": True}),
])
async def test_the_trace_and_spend_are_written_before_the_answer_is_complete(deps, auth, upstream, path, body):
    # On Cloud Run the CPU is throttled once the response is out: nothing may be left for later.


    timeline = _Timeline(deps)
    transport = httpx.ASGITransport(app=timeline.app(create_app(deps)))
    async with httpx.AsyncClient(transport=transport, base_url="http://drgero.test") as client:
        board, [chosen] = await _board_with(client, auth, upstream, "upper")
        await client.patch(f"/api/leaderboards/{board}", headers=auth, json={"chosen_leaderboard_model_id": chosen})
        timeline.events.clear()
        response = await client.post(f"/v1/leaderboard/{board}/{path}", headers=auth, json=body)
    assert response.status_code == 200, response.text
    events = timeline.events
    assert events.index("create traces") < events.index("response sent")
    assert events.index("transaction") < events.index("response sent")  # the provider reported a cost


@pytest.mark.parametrize("path, body", [
    ("inference", {"input": "hi"}),
    ("chat/completions", {"messages": [{"role": "user", "content": "hi"}]}),
    ("chat/completions", {"messages": [{"role": "user", "content": "hi"}], "stream": True}),
])
async def test_a_failed_call_tells_the_caller_a_short_reason_and_keeps_the_detail_in_the_trace(
        client, auth, tenants, upstream, path, body):
    # The chosen model is a private endpoint (a port nobody listens on): a caller holding only
    # an inference token learns neither its address nor the client library's words.
    board, _ = await _board_with(client, auth, upstream)
    private = (await client.post(f"/api/leaderboards/{board}/models", headers=auth, json={
        "name": "private", "platform": "Custom", "model_url": "http://127.0.0.1:9/v1"})).json()["id"]
    await client.patch(f"/api/leaderboards/{board}", headers=auth, json={"chosen_leaderboard_model_id": private})
    inference_only = await tenants.headers("acme", scopes=("inference",))
    answer = await client.post(f"/v1/leaderboard/{board}/{path}", headers=inference_only, json=body)
    assert answer.status_code == 502
    assert "private: unreachable" in answer.text
    assert "127.0.0.1" not in answer.text and "Error(" not in answer.text
    trace = (await client.get(f"/v1/leaderboard/{board}/traces", headers=auth)).json()["data"][0]
    [failure] = trace["failures"]
    assert (failure["candidate_id"], failure["reason"]) == (private, "unreachable") and failure["detail"]
