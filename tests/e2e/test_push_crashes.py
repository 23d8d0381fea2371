"""A live server killed with SIGKILL while pushes are in flight loses, doubles and leaks nothing.

Each trial starts `drgero serve` on the same data directory, lets four clients push with
Idempotency-Keys, and kills the whole process group at a random moment. The clients then
retry what was not answered, as a webhook sender would, against the restarted server. In
the end every acknowledged row is in the dataset once, and the used quota equals the rows
stored: a push that died anywhere took its quota together with its rows, or neither.

A kill lands inside a given push's writes only sometimes, so this is a statistical guard
(the in-process crash tests in tests/unit/test_push_consolidation.py hit every write on
purpose); DRGERO_KILL_TRIALS raises the number of trials (default 5).
"""

from __future__ import annotations

import os
import random
import signal
import threading
import time
from pathlib import Path

import httpx

from tests.e2e.conftest import drgero, start_serve
from tests.emulators import free_port
from tests.factories import push_leaderboard

TRIALS = int(os.environ.get("DRGERO_KILL_TRIALS", "5"))
PUSHERS = 4
ROWS_PER_PUSH = 5


def _body(key: str) -> dict:
    return {"rows": [{"input": f"{key} row {n}"} for n in range(ROWS_PER_PUSH)]}


def _push_until_killed(http: httpx.Client, path: str, prefix: str, answered: list[str], unanswered: list[str]) -> None:
    for seq in range(10_000):
        key = f"{prefix}-{seq}"
        try:
            response = http.post(path, json=_body(key), headers={"Idempotency-Key": key})
        except httpx.TransportError:
            unanswered.append(key)  # it may or may not have been stored: only a retry can tell
            return
        assert response.status_code == 202, response.text
        answered.append(key)


def test_sigkill_during_pushes_leaves_quota_equal_to_stored_rows(tmp_path: Path):
    env = {**os.environ, "DRGERO_DATA_DIR": str(tmp_path / "data"), "PORT": str(free_port()),
           "DRGERO_BACKEND": "embedded"}
    token = drgero("token", "create", "--workspace", "acme", "--scopes", "all", env=env).stdout.splitlines()[-1]
    log, base_url = tmp_path / "serve.log", f"http://127.0.0.1:{env['PORT']}"
    headers = {"Authorization": f"Bearer {token}"}
    server = start_serve(env, log)
    with httpx.Client(base_url=base_url, headers=headers, timeout=10) as http:
        board = http.post("/api/leaderboards", json=push_leaderboard(
            dedupe=False, max_samples_to_gather=1_000_000, consolidate_every_events=1_000_000,
            daily_event_limit=1_000_000, monthly_event_limit=10_000_000)).raise_for_status().json()
    path = f"/v1/leaderboard/{board['leaderboard']['id']}/dataset/push"
    acknowledged: list[str] = []
    rng = random.Random(7)
    for trial in range(TRIALS):
        answered: list[str] = []
        unanswered: list[str] = []
        clients = [httpx.Client(base_url=base_url, headers=headers, timeout=10) for _ in range(PUSHERS)]
        pushers = [threading.Thread(target=_push_until_killed, args=(http, path, f"t{trial}p{n}", answered, unanswered))
                   for n, http in enumerate(clients)]
        for pusher in pushers:
            pusher.start()
        time.sleep(rng.uniform(0.2, 0.8))
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()
        for pusher in pushers:
            pusher.join(timeout=30)
        for http in clients:
            http.close()
        assert len(unanswered) == PUSHERS and answered, f"trial {trial}: the kill did not land mid-push"
        server = start_serve(env, log)
        with httpx.Client(base_url=base_url, headers=headers, timeout=10) as http:
            for key in unanswered:  # the sender's retry, with the same key and body
                retried = http.post(path, json=_body(key), headers={"Idempotency-Key": key})
                assert retried.status_code in (200, 202), retried.text
                assert retried.json()["accepted_rows"] == ROWS_PER_PUSH
        acknowledged += answered + unanswered

    try:
        with httpx.Client(base_url=base_url, headers=headers, timeout=30) as http:
            http.post(path.replace("/push", "/consolidate")).raise_for_status()
            status = http.get(path.replace("/push", "/status")).raise_for_status().json()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=10)
    stored = len(acknowledged) * ROWS_PER_PUSH
    assert len(set(acknowledged)) == len(acknowledged)
    assert status["consolidated_rows"] == stored
    assert status["quota"]["used_today"] == stored
    assert status["pending_events"] == 0
