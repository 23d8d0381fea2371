"""`drgero demo` against a live `drgero serve`: real local candidates, a real local judge, offline.

The demo asks four of its questions here (the full thirty are for people and `bench/demo.py`),
which keeps the test to a few dozen model calls on the bundled SmolLM2.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator

import httpx
import pytest

from functions.cli_demo import CANDIDATES
from tests.e2e.conftest import DRGERO, LiveServer, serve_live
from tests.emulators import free_port

QUESTIONS = 4


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    yield from serve_live(tmp_path_factory.mktemp("demo"), {})


def demo(server_env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(DRGERO), "demo", *args], env=server_env, capture_output=True, text=True, timeout=600)


def test_the_demo_ranks_both_local_candidates_with_a_local_judge(demo_server: LiveServer):
    done = demo({**demo_server.env, "API_BASE": demo_server.base_url}, "--questions", str(QUESTIONS),
                "--poll-seconds", "0.5")
    assert done.returncode == 0, done.stderr + done.stdout
    assert "100.0%" in done.stderr and f"{QUESTIONS * 2}/{QUESTIONS * 2} rows" in done.stderr
    assert f"Console:     {demo_server.base_url}/" in done.stdout
    token = re.search(r"DRGERO_TOKEN=(drgero_\S+)", done.stdout)[1]
    leaderboard, run_id = re.search(r"(/api/leaderboards/[0-9a-f-]+)/runs/([0-9a-f-]+)", done.stdout).groups()

    with httpx.Client(base_url=demo_server.base_url, headers={"Authorization": f"Bearer {token}"},
                      timeout=120) as http:
        run = http.get(f"{leaderboard}/runs/{run_id}").raise_for_status().json()
        results = [json.loads(line) for line in http.get(f"{leaderboard}/runs/{run_id}/results").text.splitlines()]
        answered = http.post(f"/v1/leaderboard/{leaderboard.rsplit('/', 1)[1]}/inference",
                             json={"input": "What is 2 + 2?"})
    assert run["status"] == "completed"
    assert sorted(c["name"] for c in run["candidates"]) == sorted(name for name, _ in CANDIDATES)
    assert {entry["candidate_id"] for entry in run["ranking"]} == {c["id"] for c in run["candidates"]}
    assert all(entry["tokens_total"] > 0 and entry["latency_ms_p50"] > 0 for entry in run["ranking"])
    assert len(results) == QUESTIONS * 2 and all(r["output"] is not None for r in results)
    scored = [r for r in results if r["status"] == "scored"]
    assert scored and all(0.0 <= r["score"] <= 1.0 and isinstance(r["judge_reasoning"], str) for r in scored)
    assert all(r["cost_usd"] == 0.0 for r in results)  # a model on this machine costs nothing, knowingly
    # The ranking's winner now answers the leaderboard's inference, through the same local server.
    assert answered.status_code == 200, answered.text
    assert answered.json()["model"]["id"] == run["ranking"][0]["candidate_id"] and answered.json()["cost_usd"] == 0.0


def test_with_no_server_the_demo_says_how_to_start_one():
    done = demo({"PATH": "/usr/bin:/bin"}, "--api-base", f"http://127.0.0.1:{free_port()}")
    assert done.returncode == 1 and "make serve" in done.stderr and "drgero serve" in done.stderr
