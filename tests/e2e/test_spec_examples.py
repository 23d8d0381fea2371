"""Every curl example of the API documents runs verbatim against a live `drgero serve`.

Each example gets fresh resources for the variables it uses (a GET leaderboard with one
candidate, a PUSH leaderboard, the schedule.json file the document shows) and must print
JSON that is not an error. Examples whose route this build does not serve yet are listed
in NOT_YET_SERVED with the issue that brings them; the list must match exactly, so a new
route makes its examples run here.
"""

from __future__ import annotations

import json
import subprocess
import uuid
from pathlib import Path

import pytest

from functions.families import FAMILIES
from shared.http.family import common_routes
from tests.e2e.conftest import LiveServer, drgero
from tests.e2e.spec_examples import Example, all_examples, schedule_json
from tests.factories import get_leaderboard, openrouter_candidate, push_leaderboard

ROUTES = [route for family in FAMILIES for route in family.routes] + common_routes(FAMILIES)

# (method, path as the documents write it) -> what will serve it.
NOT_YET_SERVED: dict[tuple[str, str], str] = {}


# Literal placeholders inside request bodies, and the variable whose value replaces each.
PLACEHOLDERS = {"LEADERBOARD_MODEL_ID_1": "LEADERBOARD_MODEL_ID", "LEADERBOARD_MODEL_ID_2": "SECOND_MODEL_ID"}


def served(example: Example) -> bool:
    concrete = example.path
    for variable in example.variables:
        concrete = concrete.replace(f"${variable}", str(uuid.uuid4()))
    return any(route.method == example.method and route.match(concrete) is not None for route in ROUTES)


EXAMPLES = all_examples()
RUNNABLE = [example for example in EXAMPLES if served(example)]


def test_the_documents_have_examples_and_only_known_ones_are_not_served_yet():
    assert len(EXAMPLES) >= 20
    unserved = {(example.method, example.path) for example in EXAMPLES if not served(example)}
    assert unserved == set(NOT_YET_SERVED)


def _variables(server: LiveServer, example: Example, workdir: Path) -> dict[str, str]:
    """Fresh resources for the variables the example uses."""
    values: dict[str, str] = {"API_BASE": server.base_url, "DRGERO_TOKEN": server.token}
    if "SUPABASE_ACCESS_TOKEN" in example.variables:  # a session of the token's workspace
        values["SUPABASE_ACCESS_TOKEN"] = drgero("session", "create", "--email", "admin@acme.example",
                                                 "--workspace", "acme", env=server.env).stdout.splitlines()[-1]
    with server.client() as http:
        if {"LEADERBOARD_ID", "LEADERBOARD_MODEL_ID"} & example.variables:
            leaderboard = http.post("/api/leaderboards", json=get_leaderboard()).raise_for_status().json()
            leaderboard = leaderboard["leaderboard"]
            values["LEADERBOARD_ID"] = leaderboard["id"]
            # Not the model the "add a candidate" example adds: candidates are unique.
            other = openrouter_candidate(name="Llama", model_url="meta-llama/llama-3.3-70b-instruct")
            candidate = http.post(f"/api/leaderboards/{leaderboard['id']}/models",
                                  json=other).raise_for_status().json()
            values["LEADERBOARD_MODEL_ID"] = candidate["id"]
            second = openrouter_candidate(name="Qwen", model_url="qwen/qwen3-32b")
            values["SECOND_MODEL_ID"] = http.post(f"/api/leaderboards/{leaderboard['id']}/models",
                                                  json=second).raise_for_status().json()["id"]
        if "PUSH_LEADERBOARD_ID" in example.variables:
            board = http.post("/api/leaderboards", json=push_leaderboard()).raise_for_status().json()["leaderboard"]
            values["PUSH_LEADERBOARD_ID"] = board["id"]
            http.post(f"/v1/leaderboard/{board['id']}/dataset/push",
                      json={"input": "an earlier row"}).raise_for_status()
            http.post(f"/v1/leaderboard/{board['id']}/dataset/consolidate").raise_for_status()
        if "PUSH_TOKEN" in example.variables:
            values["PUSH_TOKEN"] = http.post(f"/v1/leaderboard/{values['PUSH_LEADERBOARD_ID']}/dataset/token",
                                             json={"name": "example"}).raise_for_status().json()["token"]
    (workdir / "schedule.json").write_text(json.dumps(schedule_json()))
    return values


@pytest.mark.parametrize("example", RUNNABLE, ids=lambda example: example.id)
def test_the_example_runs_verbatim(live_server: LiveServer, example: Example, tmp_path: Path):
    values = _variables(live_server, example, tmp_path)
    env = {**live_server.env, **values}
    command = example.command
    for placeholder, variable in PLACEHOLDERS.items():  # what the reader replaces by hand
        command = command.replace(placeholder, values.get(variable, placeholder))
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", command], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    if "> dataset.jsonl" in example.command:
        rows = [json.loads(line) for line in (tmp_path / "dataset.jsonl").read_text().splitlines()]
        assert [row["input"] for row in rows] == ["an earlier row"]
        return
    body = json.loads(done.stdout)
    assert isinstance(body, dict)
    assert not (isinstance(body.get("error"), str) and "message" in body), body  # the error body shape
