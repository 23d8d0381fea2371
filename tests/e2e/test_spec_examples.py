"""Every curl example of the API documents runs as written against a live `drgero serve`.

The examples come from the project's own table (api_examples.py), so this runs on any
clone; where the documents sit beside the clone, one test checks the table still matches
them. Each example gets fresh resources for the variables it uses (a GET leaderboard with
one candidate, a PUSH leaderboard, the schedule.json file the document shows) and must
print JSON that is not an error. Examples whose route this build does not serve yet are
listed in NOT_YET_SERVED with the issue that brings them; the list must match exactly, so
a new route makes its examples run here.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import uuid
from collections import Counter
from pathlib import Path

import pytest

from functions.families import FAMILIES
from shared.http.family import common_routes
from tests.e2e.api_documents import SPEC_DIR, documented_examples, documented_schedule
from tests.e2e.api_examples import EXAMPLES, SCHEDULE, ApiExample, BodyFile
from tests.e2e.conftest import LiveServer, drgero
from tests.factories import get_leaderboard, openrouter_candidate, push_leaderboard

ROUTES = [route for family in FAMILIES for route in family.routes] + common_routes(FAMILIES)

# (method, path as the documents write it) -> what will serve it.
NOT_YET_SERVED: dict[tuple[str, str], str] = {}


# Literal placeholders inside request bodies, and the variable whose value replaces each.
PLACEHOLDERS = {"LEADERBOARD_MODEL_ID_1": "LEADERBOARD_MODEL_ID", "LEADERBOARD_MODEL_ID_2": "SECOND_MODEL_ID"}

_VARIABLE = re.compile(r"\$([A-Z][A-Z0-9_]*)")


def curl_command(example: ApiExample) -> str:
    """The example in the shape the documents print it, ready for bash."""
    words = ["curl", "-sS"]
    if example.method != "GET":
        words += ["-X", example.method]
    words.append(f'"$API_BASE{example.path}"')
    words += [f'-H "{name}: {value}"' for name, value in example.headers]
    if isinstance(example.body, BodyFile):
        words.append(f"-d @{example.body.name}")
    elif example.body is not None:
        words.append(f"-d {shlex.quote(json.dumps(example.body))}")
    if example.output:
        words.append(example.output)
    return " ".join(words)


def variables(example: ApiExample) -> set[str]:
    return set(_VARIABLE.findall(curl_command(example))) - {"API_BASE"}


def served(example: ApiExample) -> bool:
    concrete = example.path.partition("?")[0]
    for variable in variables(example):
        concrete = concrete.replace(f"${variable}", str(uuid.uuid4()))
    return any(route.method == example.method and route.match(concrete) is not None for route in ROUTES)


RUNNABLE = [example for example in EXAMPLES if served(example)]


def test_the_table_has_examples_and_only_known_ones_are_not_served_yet():
    assert len(EXAMPLES) >= 20
    assert len({example.id for example in EXAMPLES}) == len(EXAMPLES), "example ids must be unique"
    unserved = {(example.method, example.path) for example in EXAMPLES if not served(example)}
    assert unserved == set(NOT_YET_SERVED)


def _facts(example: ApiExample) -> tuple:
    """What a reader relies on; bodies compare as parsed JSON, so layout does not matter."""
    body = json.dumps(example.body, sort_keys=True) if isinstance(example.body, dict) else example.body
    return example.method, example.path, example.headers, body, example.output


def test_the_table_matches_every_curl_example_and_the_schedule_of_the_documents():
    if not SPEC_DIR.is_dir():
        pytest.skip("the table cannot be compared: the API documents are not beside this clone (../shared/spec)")
    documented = documented_examples()
    in_documents, in_table = Counter(map(_facts, documented)), Counter(map(_facts, EXAMPLES))
    missing = [example.id for example in documented if in_documents[_facts(example)] > in_table[_facts(example)]]
    extra = [example.id for example in EXAMPLES if in_table[_facts(example)] > in_documents[_facts(example)]]
    assert not missing, f"documented examples the table lacks or states differently: {missing}"
    assert not extra, f"table examples the documents lack: {extra}"
    assert SCHEDULE == documented_schedule()


def _variables(server: LiveServer, example: ApiExample, workdir: Path) -> dict[str, str]:
    """Fresh resources for the variables the example uses."""
    values: dict[str, str] = {"API_BASE": server.base_url, "DRGERO_TOKEN": server.token}
    used = variables(example)
    if "SUPABASE_ACCESS_TOKEN" in used:  # a session of the token's workspace
        values["SUPABASE_ACCESS_TOKEN"] = drgero("session", "create", "--email", "admin@acme.example",
                                                 "--workspace", "acme", env=server.env).stdout.splitlines()[-1]
    with server.client() as http:
        if {"LEADERBOARD_ID", "LEADERBOARD_MODEL_ID"} & used:
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
        if "PUSH_LEADERBOARD_ID" in used:
            board = http.post("/api/leaderboards", json=push_leaderboard()).raise_for_status().json()["leaderboard"]
            values["PUSH_LEADERBOARD_ID"] = board["id"]
            http.post(f"/v1/leaderboard/{board['id']}/dataset/push",
                      json={"input": "an earlier row"}).raise_for_status()
            http.post(f"/v1/leaderboard/{board['id']}/dataset/consolidate").raise_for_status()
        if "PUSH_TOKEN" in used:
            values["PUSH_TOKEN"] = http.post(f"/v1/leaderboard/{values['PUSH_LEADERBOARD_ID']}/dataset/token",
                                             json={"name": "example"}).raise_for_status().json()["token"]
    (workdir / "schedule.json").write_text(json.dumps(SCHEDULE))
    return values


@pytest.mark.parametrize("example", RUNNABLE, ids=lambda example: example.id)
def test_the_example_runs_as_written(live_server: LiveServer, example: ApiExample, tmp_path: Path):
    values = _variables(live_server, example, tmp_path)
    env = {**live_server.env, **values}
    command = curl_command(example)
    for placeholder, variable in PLACEHOLDERS.items():  # what the reader replaces by hand
        command = command.replace(placeholder, values.get(variable, placeholder))
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", command], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    if example.output == "> dataset.jsonl":
        rows = [json.loads(line) for line in (tmp_path / "dataset.jsonl").read_text().splitlines()]
        assert [row["input"] for row in rows] == ["an earlier row"]
        return
    body = json.loads(done.stdout)
    assert isinstance(body, dict)
    assert not (isinstance(body.get("error"), str) and "message" in body), body  # the error body shape
