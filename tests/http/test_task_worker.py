"""The task worker function runs only tasks signed by this deployment's queue."""

from __future__ import annotations

import json

from shared.auth.secrets import task_signature
from shared.services import tasks


def _signed(deps, kind: str, payload: dict) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(payload).encode()
    return body, {"Content-Type": "application/json",
                  "X-DrGero-Task-Signature": task_signature(deps.settings.encryption_key, kind, body)}


async def test_a_signed_task_runs_its_handler(client, deps, monkeypatch):
    seen = []

    async def record(task_deps, payload):
        seen.append(payload)

    monkeypatch.setitem(tasks.HANDLERS, "record", record)
    body, headers = _signed(deps, "record", {"n": 1})
    response = await client.post("/tasks/record", content=body, headers=headers)
    assert (response.status_code, response.json()) == (200, {"status": "done"})
    assert seen == [{"n": 1}]


async def test_unsigned_or_tampered_tasks_are_refused(client, deps, monkeypatch):
    async def never(task_deps, payload):
        raise AssertionError("must not run")

    monkeypatch.setitem(tasks.HANDLERS, "record", never)
    body, headers = _signed(deps, "record", {"n": 1})
    unsigned = await client.post("/tasks/record", content=body, headers={"Content-Type": "application/json"})
    tampered = await client.post("/tasks/record", content=body.replace(b"1", b"2"), headers=headers)
    other_kind = await client.post("/tasks/other", content=body, headers=headers)
    for response in (unsigned, tampered, other_kind):
        assert response.status_code == 401 and response.json()["error"] == "invalid_signature"


async def test_unknown_kinds_are_dropped_not_retried(client, deps):
    body, headers = _signed(deps, "no_such_kind", {})
    response = await client.post("/tasks/no_such_kind", content=body, headers=headers)
    assert response.status_code == 200 and response.json()["status"] == "dropped"


async def test_a_failing_task_answers_5xx_so_the_queue_retries(client, deps, monkeypatch):
    async def flaky(task_deps, payload):
        raise RuntimeError("provider down")

    monkeypatch.setitem(tasks.HANDLERS, "flaky", flaky)
    body, headers = _signed(deps, "flaky", {})
    assert (await client.post("/tasks/flaky", content=body, headers=headers)).status_code == 500


async def test_payloads_missing_or_mistyping_fields_are_dropped_not_crashed(client, deps):
    for kind, payload in [("run_prepare", {}), ("run_chunk", {"run_id": "r", "candidate_id": "c", "chunk": "1"}),
                          ("run_chunk", {"run_id": "r", "candidate_id": "c", "chunk": True}),
                          ("consolidate_push_dataset", {"leaderboard_id": 7})]:
        body, headers = _signed(deps, kind, payload)
        answer = await client.post(f"/tasks/{kind}", content=body, headers=headers)
        assert answer.status_code == 200 and answer.json()["status"] == "dropped", payload
        assert "needs" in answer.json()["reason"]
