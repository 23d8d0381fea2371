"""The `drgero` console script, run as a user runs it, on its own data directory."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet

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


def test_a_cli_session_is_an_owner_of_its_workspace_on_the_server(live_server: LiveServer):
    done = drgero("session", "create", "--email", "Ada@Example.com", "--workspace", "session-team",
                  env=live_server.env)
    token = done.stdout.splitlines()[-1]
    assert token.count(".") == 2 and token not in done.stderr  # a JWT, printed alone on the last line
    with httpx.Client(base_url=live_server.base_url, headers={"Authorization": f"Bearer {token}"}) as http:
        view = http.get("/api/invite-user").raise_for_status().json()
        created = http.post("/api/tokens", json={"name": "from-session", "scopes": ["leaderboards:read"]})
    assert [(m["email"], m["role"]) for m in view["members"]] == [("ada@example.com", "owner")]
    assert created.status_code == 201 and created.json()["token"].startswith("drgero_")


def test_session_create_is_refused_with_production_settings(env):
    production = {**env, "DRGERO_ENV": "production", "DRGERO_SECRET_KEY": Fernet.generate_key().decode(),
                  "DRGERO_CRON_SECRET": "c" * 32, "DRGERO_PUBLIC_BASE_URL": "https://drgero.example.com",
                  "DRGERO_SUPABASE_JWT_SECRET": "s" * 40}
    done = subprocess.run([str(DRGERO), "session", "create", "--email", "a@b.co", "--workspace", "w"],
                          env=production, capture_output=True, text=True)
    assert done.returncode == 2
    assert "production" in done.stderr and done.stdout == ""
