"""A leaderboard run end to end with a REAL local LLM (SmolLM2-135M on llama.cpp), offline.

The model answers as a Custom candidate and grades as the judge; `drgero run --wait`
starts the run through the API of a live `drgero serve` and prints the ranking.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import DRGERO, LiveServer

ROWS = [{"id": "fr", "question": "What is the capital of France?", "answer": "Paris"},
        {"id": "it", "question": "What is the capital of Italy?", "answer": "Rome"},
        {"id": "jp", "question": "What is the capital of Japan?", "answer": "Tokyo"}]


@pytest.fixture(scope="module")
def local_llm() -> Iterator[str]:
    script = Path(__file__).resolve().parents[1] / "local_llm.py"
    process = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                               text=True, start_new_session=True)
    try:
        line = process.stdout.readline().strip()
        assert line.startswith("http"), f"the local LLM did not start (exit {process.poll()})"
        yield line
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_a_real_model_runs_judged_by_a_real_model(local_live_server: LiveServer, local_llm: str):
    with local_live_server.client() as http:
        board = http.post("/api/leaderboards", json={
            "name": "Capitals (real model)", "system_prompt": "Answer in one word.\n\n{input}",
            "dataset_type": "PUSH", "eval_type": "judge",
            "eval_metadata": {"judge_provider": "Custom", "judge_url": f"{local_llm}/v1", "judge_model": "smollm2"},
        }).raise_for_status().json()["leaderboard"]
        http.post(f"/v1/leaderboard/{board['id']}/dataset/push", json={"rows": ROWS}).raise_for_status()
        http.post(f"/v1/leaderboard/{board['id']}/dataset/consolidate").raise_for_status()
        candidate = http.post(f"/api/leaderboards/{board['id']}/models", json={
            "name": "SmolLM2 135M", "platform": "Custom", "model_url": f"{local_llm}/v1"}).raise_for_status().json()

    env = {**os.environ, "API_BASE": local_live_server.base_url, "DRGERO_TOKEN": local_live_server.token}
    done = subprocess.run([str(DRGERO), "run", board["id"], "--wait", "--poll-seconds", "0.3"], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    run_id, *table = done.stdout.strip().splitlines()
    assert "100.0%" in done.stderr and "3/3 rows" in done.stderr
    assert "SmolLM2 135M" in table[1]

    with local_live_server.client() as http:
        run = http.get(f"/api/leaderboards/{board['id']}/runs/{run_id}").raise_for_status().json()
        results = [json.loads(line) for line in
                   http.get(f"/api/leaderboards/{board['id']}/runs/{run_id}/results").text.splitlines()]
        detail = http.get(f"/api/leaderboards/{board['id']}").raise_for_status().json()
    assert run["status"] == "completed"
    [entry] = run["ranking"]
    assert entry["candidate_id"] == candidate["id"]
    assert 0.0 <= entry["mean_score"] <= 1.0 and entry["tokens_total"] > 0 and entry["latency_ms_p50"] > 0
    assert len(results) == 3 and all(r["output"] is not None for r in results)  # the model answered every row
    scored = [r for r in results if r["status"] == "scored"]
    # A 135M model is a weak judge: a verdict it garbles three times is recorded, not guessed.
    assert scored and all(0.0 <= r["score"] <= 1.0 and isinstance(r["judge_reasoning"], str) for r in scored)
    assert all(r["error"] == "the judge's replies held no score" for r in results if r["status"] != "scored")
    assert entry["failures"] == len(results) - len(scored)
    assert detail["leaderboard"]["chosen_leaderboard_model_id"] == candidate["id"]
