"""The deploy script, checked without a cloud: its dry run's exact gcloud commands, and real runs
against a fake gcloud that remembers what it created."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from functions.families import DEPLOYED as FAMILIES
from infra.deploy import SECRETS, already_exists, steps
from infra.urlmap import function_name
from tests import fake_gcloud

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ["--project", "demo-project", "--region", "europe-west1", "--base-url", "https://api.example.com"]
INDEXES = json.loads((ROOT / "infra" / "firestore.indexes.json").read_text())["indexes"]


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


def test_the_api_service_account_may_read_the_queue():
    lines = dry_run()
    for role in ("roles/cloudtasks.enqueuer", "roles/cloudtasks.viewer"):
        assert any("add-iam-policy-binding demo-project" in line and "serviceAccount:drgero-api@" in line
                   and f"--role={role}" in line for line in lines)


def test_the_script_and_the_module_print_the_same_commands_from_anywhere(tmp_path):
    # Outside the clone a user runs the script by its path; the `-m` form needs the clone on PYTHONPATH.
    env = {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}
    script, module = [str(ROOT / "infra" / "deploy.py")], ["-m", "infra.deploy"]
    ways = {"script from the clone": (["infra/deploy.py"], ROOT, env),
            "script from elsewhere": (script, tmp_path, env),
            "module from the clone": (module, ROOT, env),
            "module from elsewhere": (module, tmp_path, {**env, "PYTHONPATH": str(ROOT)})}
    printed = {way: subprocess.run([sys.executable, *entry, *DEPLOY, "--dry-run"], cwd=cwd, env=run_env,
                                   capture_output=True, text=True, check=True).stdout
               for way, (entry, cwd, run_env) in ways.items()}
    assert "functions deploy" in printed["module from the clone"]
    assert len(set(printed.values())) == 1, printed


def test_generated_secrets_are_fernet_keys_without_a_trailing_newline():
    scripts = [step.command[2] for step in steps("demo-project", "europe-west1", "https://api.example.com")
               if step.command[:2] == ["sh", "-c"] and " secrets create " in step.command[2]]
    assert len(scripts) == len(SECRETS)
    for script in scripts:
        generate, _ = script.split(" | gcloud", 1)
        value = subprocess.run(["sh", "-c", generate], capture_output=True, check=True).stdout
        assert len(value) == 44 and not value.endswith(b"\n")
        Fernet(value)


def test_a_create_answered_already_exists_counts_as_done_whatever_the_wording():
    assert already_exists("ERROR: (gcloud.firestore.indexes.composite.create) ALREADY_EXISTS: index already exists")
    assert already_exists("ERROR: (gcloud.compute.backend-services.add-backend) Backend [x] Already Exists")
    assert already_exists("ERROR: (gcloud.compute.addresses.create) ALREADY_EXISTS")
    assert not already_exists("ERROR: (gcloud.compute.addresses.create) PERMISSION_DENIED")


def deploy(gcloud_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": f"{gcloud_dir}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.run([sys.executable, "-m", "infra.deploy", *DEPLOY], cwd=ROOT, env=env,
                          capture_output=True, text=True)


def creates(calls: list[dict]) -> list[dict]:
    return [call for call in calls if "create" in call["argv"] or "add-backend" in call["argv"]]


@pytest.fixture(scope="module")
def deployed_twice(tmp_path_factory) -> tuple[Path, list[subprocess.CompletedProcess[str]], list[list[dict]]]:
    """The real deploy run twice against one fake gcloud: (its directory, both runs, each run's calls)."""
    gcloud_dir = tmp_path_factory.mktemp("gcloud")
    fake_gcloud.install(gcloud_dir)
    runs, calls = [], []
    for _ in range(2):
        before = len(fake_gcloud.calls(gcloud_dir))
        runs.append(deploy(gcloud_dir))
        calls.append(fake_gcloud.calls(gcloud_dir)[before:])
    return gcloud_dir, runs, calls


def test_the_first_deploy_creates_every_resource(deployed_twice):
    _, (first, _), (calls, _) = deployed_twice
    assert first.returncode == 0, first.stdout + first.stderr
    assert creates(calls) and all(call["exit"] == 0 for call in creates(calls))
    assert "already there" not in first.stdout


def test_deploying_again_creates_nothing_and_succeeds(deployed_twice):
    _, (_, second), (_, calls) = deployed_twice
    assert second.returncode == 0, second.stdout + second.stderr
    assert not [call for call in creates(calls) if call["exit"] == 0]
    # What has a describe is skipped; what has none is tried again and answered "already exists".
    guarded = [step for step in steps("demo-project", "europe-west1", "https://api.example.com") if step.unless]
    assert second.stdout.count("-> skipped: it exists") == len(guarded)
    retried = creates(calls)
    assert len([call for call in retried if "indexes" in call["argv"]]) == len(INDEXES)
    assert len([call for call in retried if "add-backend" in call["argv"]]) == len(FAMILIES)
    assert len(retried) == len(INDEXES) + len(FAMILIES)
    assert all(call["exit"] == 1 for call in retried)
    assert second.stdout.count("-> already there") == len(retried)


def test_deployed_secrets_are_stored_without_a_trailing_newline(deployed_twice):
    gcloud_dir, _, _ = deployed_twice
    state = json.loads((gcloud_dir / "state.json").read_text())
    for secret in SECRETS:
        value = state[f"secrets {secret}"]
        assert len(value) == 44 and not value.endswith("\n")
        Fernet(value)
