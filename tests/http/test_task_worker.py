"""The task worker function runs only tasks signed by this deployment's queue."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

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

    monkeypatch.setitem(tasks.KINDS, "record", tasks.TaskKind(record, {}))
    body, headers = _signed(deps, "record", {"n": 1})
    response = await client.post("/tasks/record", content=body, headers=headers)
    assert (response.status_code, response.json()) == (200, {"status": "done"})
    assert seen == [{"n": 1}]


async def test_unsigned_or_tampered_tasks_are_refused(client, deps, monkeypatch):
    async def never(task_deps, payload):
        raise AssertionError("must not run")

    monkeypatch.setitem(tasks.KINDS, "record", tasks.TaskKind(never, {}))
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

    monkeypatch.setitem(tasks.KINDS, "flaky", tasks.TaskKind(flaky, {}))
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


# Run in a fresh interpreter: importing the task worker's module alone must bring every handler.
_ONLY_THE_WORKER = textwrap.dedent("""
    import asyncio, json, sys
    from pathlib import Path
    from starlette.requests import Request
    from functions.task_worker import FAMILY
    from shared.auth.secrets import task_signature
    from shared.bootstrap import build
    from shared.config import Settings
    from shared.http.family import dispatcher

    async def main(kinds):
        deps = build(Settings(_env_file=None, data_dir=Path(sys.argv[1])))
        handle, seen = dispatcher([FAMILY], lambda: asyncio.sleep(0, deps)), {}
        for kind in kinds:
            body = json.dumps({"run_id": "gone", "candidate_id": "gone", "chunk": 0, "leaderboard_id": "gone"}).encode()
            headers = [(b"content-type", b"application/json"),
                       (b"x-drgero-task-signature", task_signature(deps.settings.encryption_key, kind, body).encode())]
            scope = {"type": "http", "method": "POST", "path": f"/tasks/{kind}", "headers": headers, "query_string": b""}
            async def receive(body=body):
                return {"type": "http.request", "body": body, "more_body": False}
            seen[kind] = json.loads((await handle(Request(scope, receive))).body)
        print(json.dumps(seen))

    asyncio.run(main(sys.argv[2:]))
""")


def test_a_process_importing_only_the_task_worker_runs_every_kind(tmp_path):
    kinds = ["run_prepare", "run_chunk", "run_finalize", "consolidate_push_dataset"]
    done = subprocess.run([sys.executable, "-c", _ONLY_THE_WORKER, str(tmp_path), *kinds],
                          capture_output=True, text=True, timeout=60, check=True)
    # Each handler ran (and found nothing to do for ids that do not exist) instead of being dropped.
    assert json.loads(done.stdout.splitlines()[-1]) == {kind: {"status": "done"} for kind in kinds}
