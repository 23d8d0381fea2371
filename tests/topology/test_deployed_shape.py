"""The product in its production shape, end to end: every request goes through the router to the
function the URL map names, queued work through the Cloud Tasks emulator to the task worker,
and cron jobs come from the scheduler stand-in with the cron secret.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import yaml

from functions.families import FAMILIES
from shared.adapters.firestore import FirestoreDocuments
from shared.http.family import api_document
from shared.stores.leaderboards import Leaderboards
from tests.topology.conftest import drgero

CAPITALS = [("France", "Paris"), ("Japan", "Tokyo"), ("Kenya", "Nairobi"), ("Peru", "Lima"), ("Chile", "Santiago"),
            ("Egypt", "Cairo"), ("Spain", "Madrid"), ("Italy", "Rome"), ("India", "New Delhi"), ("Cuba", "Havana")]


@pytest.fixture
def api(topology, token) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=topology.url, headers={"Authorization": f"Bearer {token}"}, timeout=60) as client:
        yield client


def eventually(check: Callable[[], Any], timeout: float = 90, every: float = 0.2) -> Any:
    """The first truthy result of `check`, polling until `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            assert result, f"not reached within {timeout} s"
            return result
        time.sleep(every)


def rows(count: int) -> list[dict]:
    # The input's last line is the answer, so the `echo` model is always right.
    return [{"id": f"{country}-{n}", "input": f"Country: {country}\n{city}", "expected": city}
            for n in range(count // len(CAPITALS) + 1) for country, city in CAPITALS][:count]


def push_board(api: httpx.Client, **settings: Any) -> str:
    body = {"name": f"board {uuid.uuid4()}", "system_prompt": "Name the capital.\n{input}", "dataset_type": "PUSH",
            "eval_type": "exact", **settings}
    created = api.post("/api/leaderboards", json=body)
    assert created.status_code == 201, created.text
    return created.json()["leaderboard"]["id"]


def candidate(api: httpx.Client, board: str, name: str, url: str) -> str:
    created = api.post(f"/api/leaderboards/{board}/models", json={"name": name, "platform": "Custom", "model_url": url})
    assert created.status_code == 201, created.text
    return created.json()["id"]


def finished_run(api: httpx.Client, board: str, run_id: str, timeout: float = 120) -> dict:
    def done() -> dict | None:
        run = api.get(f"/api/leaderboards/{board}/runs/{run_id}").json()
        return run if run["status"] in ("completed", "failed", "cancelled") else None

    return eventually(done, timeout)


def consolidated(api: httpx.Client, board: str, rows_expected: int) -> list[dict]:
    version = eventually(lambda: api.get(f"/v1/leaderboard/{board}/dataset/status").json()["dataset_version"])
    assert version >= 1
    lines = api.get(f"/v1/leaderboard/{board}/dataset").text.splitlines()
    assert len(lines) == rows_expected
    return [json.loads(line) for line in lines]


def test_each_function_is_ready_and_documents_the_whole_api(topology):
    whole = yaml.safe_load(api_document(FAMILIES))["paths"]
    for family in FAMILIES:
        base = topology.function_url(family.name)
        ready = httpx.get(f"{base}/readyz", timeout=10)
        assert ready.json() == {"status": "ready", "checks": {"documents": "ok", "blobs": "ok", "queue": "ok"}}
        assert yaml.safe_load(httpx.get(f"{base}/openapi.yaml", timeout=10).text)["paths"].keys() == whole.keys()
    assert yaml.safe_load(httpx.get(f"{topology.url}/openapi.yaml").text)["paths"].keys() == whole.keys()


def test_pushes_of_every_kind_are_consolidated_by_the_scheduler_and_downloaded(topology, api):
    board = push_board(api, consolidate_every_events=1000, consolidate_every_hours=0.0003)  # due after ~1 s
    batch = api.post(f"/v1/leaderboard/{board}/dataset/push", json={"rows": [
        {"id": "t-1", "input": "How do I cancel?", "output": "From Billing."},
        {"id": "t-2", "input": "Where are invoices?", "output": "Settings, Billing."}]})
    single = api.post(f"/v1/leaderboard/{board}/dataset/push", json={"input": "hello", "output": "world"})
    push_token = api.post(f"/v1/leaderboard/{board}/dataset/token", json={"name": "webhook"}).json()["token"]
    webhook = httpx.post(f"{topology.url}/v1/leaderboard/{board}/dataset/push", json={"input": "from the app"},
                         headers={"X-Dr.Gero-Push-Token": push_token})
    key = {"Idempotency-Key": f"retry-{uuid.uuid4()}"}
    first = api.post(f"/v1/leaderboard/{board}/dataset/push", json={"input": "once"}, headers=key)
    retry = api.post(f"/v1/leaderboard/{board}/dataset/push", json={"input": "once"}, headers=key)
    assert [r.status_code for r in (batch, single, webhook, first, retry)] == [202] * 5
    assert [r.json()["accepted_rows"] for r in (batch, single, webhook, first)] == [2, 1, 1, 1]
    assert retry.headers["Idempotent-Replayed"] == "true" and retry.json()["batch_id"] == first.json()["batch_id"]
    time.sleep(1.2)
    due = topology.call_job("consolidate-due")["consolidated"]
    assert [(entry["leaderboard_id"], entry["reason"]) for entry in due if entry["leaderboard_id"] == board] == \
        [(board, "age")]
    inputs = [row["input"] for row in consolidated(api, board, 5)]
    assert sorted(inputs) == sorted(["How do I cancel?", "Where are invoices?", "hello", "from the app", "once"])


def test_a_push_that_reaches_its_threshold_is_consolidated_by_the_task_worker(api):
    board = push_board(api, consolidate_every_events=3)
    assert api.post(f"/v1/leaderboard/{board}/dataset/push", json={"rows": rows(3)}).json()["consolidation"] == \
        {"should_consolidate": True}
    assert {row["id"] for row in consolidated(api, board, 3)} == {row["id"] for row in rows(3)}


def run_board(api: httpx.Client, upstream, count: int) -> tuple[str, str, str]:
    """A PUSH leaderboard of `count` capitals with two candidates: one always right, one always wrong."""
    board = push_board(api)
    api.post(f"/v1/leaderboard/{board}/dataset/push", json={"rows": rows(count)}).raise_for_status()
    api.post(f"/v1/leaderboard/{board}/dataset/consolidate").raise_for_status()
    right = candidate(api, board, "echo", upstream.model_url("echo"))
    wrong = candidate(api, board, "wrong", upstream.model_url("const-Atlantis"))
    return board, right, wrong


def test_a_run_goes_through_cloud_tasks_ranks_both_candidates_and_chooses_the_winner(api, upstream):
    board, right, wrong = run_board(api, upstream, 30)
    started = api.post(f"/api/leaderboards/{board}/run", json={})
    assert started.status_code == 202, started.text
    run = finished_run(api, board, started.json()["id"])
    assert run["status"] == "completed" and run["chunks"] == 3
    ranking = {entry["candidate_id"]: entry for entry in run["ranking"]}
    assert (ranking[right]["mean_score"], ranking[right]["rows_scored"]) == (1.0, 30)
    assert (ranking[wrong]["mean_score"], ranking[wrong]["rows_scored"]) == (0.0, 30)
    assert api.get(f"/api/leaderboards/{board}").json()["leaderboard"]["chosen_leaderboard_model_id"] == right


def test_inference_chat_completions_and_streams_are_traced_before_they_answer(api, upstream):
    board = push_board(api)
    chosen = candidate(api, board, "upper", upstream.model_url("upper"))
    api.patch(f"/api/leaderboards/{board}", json={"chosen_leaderboard_model_id": chosen,
                                                  "constraints": {"monthly_budget_usd": 10}}).raise_for_status()
    answer = api.post(f"/v1/leaderboard/{board}/inference", json={"input": "hello"})
    assert answer.status_code == 200 and answer.json()["output"] == "HELLO"
    assert answer.headers["X-DrGero-Model"] == chosen
    chat = api.post(f"/v1/leaderboard/{board}/chat/completions", json={"messages": [{"role": "user", "content": "hi"}]})
    assert chat.json()["choices"][0]["message"]["content"] == "HI"
    body = {"messages": [{"role": "user", "content": "stream me"}], "stream": True}
    with api.stream("POST", f"/v1/leaderboard/{board}/chat/completions", json=body) as stream:
        events = [line for line in stream.iter_lines() if line.startswith("data: ")]
    assert events[-1] == "data: [DONE]"
    streamed = "".join(json.loads(event[6:])["choices"][0]["delta"].get("content") or "" for event in events[:-1])
    assert streamed == "STREAM ME"
    # No waiting: each trace and its cost were stored before its answer was complete.
    exported = api.get(f"/v1/leaderboard/{board}/traces", params={"format": "jsonl"}).text.splitlines()
    traces = [json.loads(line) for line in exported]
    assert sorted(trace["output"] for trace in traces) == ["HELLO", "HI", "STREAM ME"]
    assert all(trace["status"] == "ok" and trace["cost_usd"] == 0.0001 for trace in traces)
    spent = api.post(f"/v1/leaderboard/{board}/inference", json={"input": "again"})
    assert float(spent.headers["X-DrGero-Budget-Remaining-Usd"]) == pytest.approx(10 - 3 * 0.0001)


def test_run_due_called_three_times_at_once_starts_the_due_run_once(topology, api, upstream):
    board, _, _ = run_board(api, upstream, 10)
    schedule = {"version": 2, "triggers": {"cron": {"enabled": True, "preset": "WEEKLY"}}}
    api.patch(f"/api/leaderboards/{board}", json={"schedule": schedule}).raise_for_status()
    # A week is long to wait: move the saved slot into the past, as if Monday 06:00 had come.
    slot = "2026-01-05T06:00:00.000000Z"
    documents = FirestoreDocuments(topology.settings["DRGERO_GCP_PROJECT"])
    asyncio.run(documents.update(Leaderboards.collection, board, {"schedule_due": {"cron": slot}, "schedule_next_due_at": slot}))
    answers: list[dict] = []
    callers = [threading.Thread(target=lambda: answers.append(topology.call_job("run-due"))) for _ in range(3)]
    for caller in callers:
        caller.start()
    for caller in callers:
        caller.join()
    started = [entry for answer in answers for entry in answer["started"] if entry["leaderboard_id"] == board]
    assert [(entry["trigger"], entry["status"], entry["due_at"]) for entry in started] == [("cron", "started", slot)]
    runs = api.get(f"/api/leaderboards/{board}/runs").json()
    assert runs["count"] == 1 and runs["data"][0]["run_source"] == "schedule"
    assert finished_run(api, board, runs["data"][0]["id"])["status"] == "completed"


def test_a_signed_supabase_session_reaches_the_session_family(topology, supabase):
    drgero(topology, "invite", "create", "--workspace", "session-team", "--email", "founder@example.com")
    session = {"Authorization": f"Bearer {supabase.session('founder@example.com')}"}
    [invite] = httpx.get(f"{topology.url}/api/me", headers=session, timeout=30).json()["invites"]
    assert httpx.post(f"{topology.url}/api/me/invites/{invite['id']}/accept", headers=session,
                      timeout=30).json()["role"] == "owner"
    members = httpx.get(f"{topology.url}/api/invite-user", headers=session, timeout=30)
    assert members.status_code == 200, members.text
    assert [(m["email"], m["role"]) for m in members.json()["members"]] == [("founder@example.com", "owner")]
    created = httpx.post(f"{topology.url}/api/tokens", headers=session, json={"name": "ci"}, timeout=30)
    assert created.status_code == 201, created.text
    listed = httpx.get(f"{topology.url}/api/leaderboards", headers={"Authorization": f"Bearer {created.json()['token']}"})
    assert listed.status_code == 200 and listed.json()["count"] == 0
    forged = supabase.session("founder@example.com").rsplit(".", 1)[0] + ".c2lnbmF0dXJl"
    assert httpx.get(f"{topology.url}/api/invite-user", headers={"Authorization": f"Bearer {forged}"}).status_code == 401


def test_the_reaper_is_called_by_the_scheduler_with_the_cron_secret(topology):
    assert "reaped" in topology.call_job("reap-stale-runs")
    wrong = httpx.post(f"{topology.url}/api/leaderboard-runs/reap-stale", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401


def test_a_task_worker_killed_mid_run_restarts_and_the_run_completes_with_exact_counts(topology, api, upstream):
    board, right, wrong = run_board(api, upstream, 40)
    upstream.delay_seconds = 0.1  # so a chunk is still in flight when the worker dies
    try:
        run_id = api.post(f"/api/leaderboards/{board}/run", json={}).json()["id"]
        eventually(lambda: api.get(f"/api/leaderboards/{board}/runs/{run_id}").json()["progress"]["rows_done"] >= 10,
                   every=0.05)
        topology.kill_function("task_worker")
        assert api.get(f"/api/leaderboards/{board}/runs/{run_id}").json()["status"] == "running"
        time.sleep(1.0)  # the queue keeps delivering into a dead port and counts the failures
        topology.start_function("task_worker")
        run = finished_run(api, board, run_id)
    finally:
        upstream.delay_seconds = 0.0
    assert run["status"] == "completed" and run["progress"]["rows_done"] == 80
    ranking = {entry["candidate_id"]: entry for entry in run["ranking"]}
    assert [(ranking[c]["rows_scored"], ranking[c]["failures"]) for c in (right, wrong)] == [(40, 0), (40, 0)]
    results = [json.loads(line) for line in api.get(f"/api/leaderboards/{board}/runs/{run_id}/results").text.splitlines()]
    assert len(results) == 80 and len({(r["candidate_id"], r["row_id"]) for r in results}) == 80


def test_the_console_is_its_own_function_behind_the_router(topology, token):
    console = httpx.Client(base_url=topology.url, timeout=10, follow_redirects=False)
    page = console.get("/sign-in")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    signin = re.search(r'name="signin_csrf" value="([^"]+)"', page.text).group(1)
    signed = console.post("/sign-in", data={"signin_csrf": signin, "api_token": token, "next": "/"})
    assert signed.status_code == 303
    assert any(c.startswith("drgero_console=") and "HttpOnly" in c for c in signed.headers.get_list("set-cookie"))
    listing = console.get("/")
    assert listing.status_code == 200 and "<h1>Leaderboards</h1>" in listing.text
    direct = httpx.get(f"{topology.function_url('console')}/sign-in", timeout=10)
    assert direct.status_code == 200  # the router sent it to the console function, which serves it alone
