"""The `drgero` console script, run as a user runs it, on its own data directory."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import DRGERO, LiveServer, drgero

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "DRGERO_DATA_DIR": str(tmp_path / "data"), "DRGERO_BACKEND": "embedded"}


def test_workspace_create_prints_the_id_and_refuses_a_taken_name(env):
    first = drgero("workspace", "create", "acme", "--plan", "free", env=env)
    assert UUID.match(first.stdout.strip())
    again = subprocess.run([str(DRGERO), "workspace", "create", "acme"], env=env, capture_output=True, text=True)
    assert again.returncode != 0
    assert "acme" in again.stderr


def test_token_create_prints_the_token_alone_on_the_last_line(env):
    done = drgero("token", "create", "--workspace", "new-team", "--scopes", "leaderboards:read,models:read",
                  "--name", "ci", env=env)
    token = done.stdout.splitlines()[-1]
    assert re.fullmatch(r"drgero_[A-Za-z0-9_-]{32,}", token)
    assert token not in done.stderr
    assert "created workspace new-team" in done.stderr


def test_unknown_scopes_are_refused_with_a_message(env):
    done = subprocess.run([str(DRGERO), "token", "create", "--workspace", "w", "--scopes", "leaderboards:fly"],
                          env=env, capture_output=True, text=True)
    assert done.returncode == 2
    assert "leaderboards:fly" in done.stderr


def test_a_cli_token_carries_exactly_its_scopes_on_the_server(live_server: LiveServer):
    token = drgero("token", "create", "--workspace", "acme", "--scopes", "leaderboards:read",
                   env=live_server.env).stdout.splitlines()[-1]
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=live_server.base_url, headers=headers) as http:
        assert http.get("/api/leaderboards").status_code == 200
        refused = http.post("/api/leaderboards", json={"name": "x", "system_prompt": "{input}"})
    assert refused.status_code == 403
    assert refused.json()["error"] == "insufficient_scope"
