"""The deploy script's dry run: the exact gcloud commands, checked without a cloud."""

from __future__ import annotations

import json
import subprocess
import sys

from functions.families import FAMILIES
from infra.urlmap import function_name

ROOT = __import__("pathlib").Path(__file__).resolve().parents[1]


def dry_run(*extra: str) -> list[str]:
    done = subprocess.run([sys.executable, "-m", "infra.deploy", "--project", "demo-project", "--region",
                           "europe-west1", "--base-url", "https://api.example.com", "--dry-run", *extra],
                          cwd=ROOT, capture_output=True, text=True, check=True)
    return done.stdout.splitlines()


def test_every_family_is_deployed_as_its_own_gen2_function():
    lines = dry_run()
    for family in FAMILIES:
        [deploy] = [line for line in lines if f"functions deploy {function_name(family.name)} " in line]
        assert "--gen2" in deploy and "--runtime=python311" in deploy and "--trigger-http" in deploy
        assert f"--entry-point={family.name}" in deploy and "DRGERO_BACKEND=gcp" in deploy
        assert "DRGERO_CRON_SECRET=drgero-cron-secret:latest" in deploy
        private = "--no-allow-unauthenticated" in deploy
        assert private == (family.name == "task_worker")


def test_resources_are_created_only_when_missing_and_indexes_come_from_the_file():
    lines = dry_run()
    creates = [line for line in lines if " create " in line and "indexes composite" not in line]
    assert creates and all("||" in line for line in creates)
    indexes = json.loads((ROOT / "infra" / "firestore.indexes.json").read_text())["indexes"]
    assert len([line for line in lines if "indexes composite create" in line]) == len(indexes)
    assert any("scheduler jobs create http drgero-run-due" in line and "/api/leaderboard-schedules/run-due" in line
               for line in lines)
    assert any("add-invoker-policy-binding drgero-task-worker" in line and "drgero-tasks@" in line for line in lines)
    assert any(line.startswith("gcloud --project=demo-project compute url-maps import drgero-api") for line in lines)
    assert any("ssl-certificates create drgero-api --domains=api.example.com" in line for line in lines)
    assert "forwarding-rules create drgero-api" in lines[-1]


def test_a_supabase_project_configures_session_verification_on_every_function():
    without = [line for line in dry_run() if "functions deploy" in line]
    assert without and not any("SUPABASE" in line for line in without)
    deploys = [line for line in dry_run("--supabase-url", "https://abc.supabase.co/") if "functions deploy" in line]
    assert len(deploys) == len(FAMILIES)
    for line in deploys:
        assert "DRGERO_SUPABASE_JWKS_URL=https://abc.supabase.co/auth/v1/.well-known/jwks.json" in line
        assert "DRGERO_SESSION_ISSUER=https://abc.supabase.co/auth/v1" in line
