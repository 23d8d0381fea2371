"""Deploy Dr.Gero to a Google Cloud project with gcloud: `python -m infra.deploy --project P [--dry-run]`.

From outside the clone, run `python path/to/clone/infra/deploy.py ...` (or put the clone on PYTHONPATH).

Safe to run again, and by two deployers at once: a resource is created only when `describe`
says it is missing, a create that gcloud answers "already exists" counts as done (the only
check for what has no describe by name: composite indexes, a backend service's backends),
and the functions are (re)deployed each time. It prints what each step did; `--dry-run`
prints the exact commands instead of running them. What it sets up, in order: APIs,
Firestore and its composite indexes, the GCS bucket, the Cloud Tasks queue, secrets, service
accounts and IAM, one function per family (the task worker reachable only by the queue's
identity), the Scheduler jobs, and one HTTPS load balancer (URL map, certificate, proxy,
address) putting every family behind one API base URL.
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
# Run as a script (`python infra/deploy.py`), Python puts infra/, not the repository root, first
# on sys.path, so `infra` (and, without an install, `functions`) would not import.
if not __package__:
    sys.path.insert(0, str(ROOT))

from functions.families import DEPLOYED  # noqa: E402
from functions.operator_api import JOBS  # noqa: E402
from infra.urlmap import function_name, url_map  # noqa: E402

APIS = ["cloudfunctions.googleapis.com", "run.googleapis.com", "cloudbuild.googleapis.com",
        "artifactregistry.googleapis.com", "firestore.googleapis.com", "cloudtasks.googleapis.com",
        "cloudscheduler.googleapis.com", "secretmanager.googleapis.com", "compute.googleapis.com",
        "storage.googleapis.com"]
SECRETS = {"drgero-secret-key": "DRGERO_SECRET_KEY", "drgero-cron-secret": "DRGERO_CRON_SECRET"}
QUEUE = "drgero-model-calls"


@dataclass(frozen=True)
class Step:
    command: list[str]
    unless: list[str] | None = None  # skip when this succeeds (the resource exists)


def bucket_name(project: str) -> str:
    return f"{project}-drgero"


def tasks_service_account(project: str) -> str:
    return f"drgero-tasks@{project}.iam.gserviceaccount.com"


def worker_url(project: str, region: str) -> str:
    """Where Cloud Tasks delivers tasks: the task worker function's own URL."""
    return f"https://{region}-{project}.cloudfunctions.net/{function_name('task_worker')}"


def function_env(project: str, region: str, base_url: str, supabase_url: str = "", *,
                 worker: str | None = None) -> dict[str, str]:
    """The settings every deployed function gets (the secrets come on top, from Secret Manager).

    The local topology starts each function with exactly these, `worker` being the task
    worker's local address there.
    """
    env = {"DRGERO_BACKEND": "gcp", "DRGERO_ENV": "production", "DRGERO_GCP_PROJECT": project,
           "DRGERO_GCS_BUCKET": bucket_name(project), "DRGERO_TASKS_LOCATION": region, "DRGERO_TASKS_QUEUE": QUEUE,
           "DRGERO_WORKER_URL": worker or worker_url(project, region),
           "DRGERO_TASKS_SERVICE_ACCOUNT": tasks_service_account(project), "DRGERO_PUBLIC_BASE_URL": base_url}
    if supabase_url:  # browser sessions: the Supabase project's asymmetric signing keys and issuer
        env |= {"DRGERO_SUPABASE_JWKS_URL": f"{supabase_url}/auth/v1/.well-known/jwks.json",
                "DRGERO_SESSION_ISSUER": f"{supabase_url}/auth/v1"}
    return env


def steps(project: str, region: str, base_url: str, supabase_url: str = "") -> list[Step]:
    g = ["gcloud", f"--project={project}"]
    bucket, queue = bucket_name(project), QUEUE
    api_sa, tasks_sa = f"drgero-api@{project}.iam.gserviceaccount.com", tasks_service_account(project)
    out = [Step([*g, "services", "enable", *APIS]),
           Step([*g, "firestore", "databases", "create", f"--location={region}"],
                unless=[*g, "firestore", "databases", "describe"])]
    for index in json.loads((ROOT / "infra" / "firestore.indexes.json").read_text())["indexes"]:
        fields = [f"--field-config=field-path={f['fieldPath']},order={f['order'].lower()}" for f in index["fields"]]
        # No describe by name (gcloud names an index by a generated id): "already exists" covers a rerun.
        out.append(Step([*g, "firestore", "indexes", "composite", "create",
                         f"--collection-group={index['collectionGroup']}", "--query-scope=collection", *fields,
                         "--async"]))
    out += [Step([*g, "storage", "buckets", "create", f"gs://{bucket}", f"--location={region}",
                  "--uniform-bucket-level-access"], unless=[*g, "storage", "buckets", "describe", f"gs://{bucket}"]),
            Step([*g, "tasks", "queues", "create", queue, f"--location={region}", "--max-dispatches-per-second=50",
                  "--max-concurrent-dispatches=200", "--max-attempts=8", "--min-backoff=1s", "--max-backoff=300s"],
                 unless=[*g, "tasks", "queues", "describe", queue, f"--location={region}"])]
    for secret in SECRETS:
        # A Fernet key (urlsafe base64 of 32 bytes); base64 ends with a newline that must not be stored.
        out.append(Step(["sh", "-c", f"head -c 32 /dev/urandom | base64 | tr -d '\\n' | tr '+/' '-_' | "
                         f"gcloud --project={project} secrets create {secret} --data-file=-"],
                        unless=[*g, "secrets", "describe", secret]))
    for account in ("drgero-api", "drgero-tasks"):
        out.append(Step([*g, "iam", "service-accounts", "create", account],
                        unless=[*g, "iam", "service-accounts", "describe", f"{account}@{project}.iam.gserviceaccount.com"]))
    # cloudtasks.viewer: readiness reads the queue, and a task is looked up by name before it is created.
    for role in ("roles/datastore.user", "roles/storage.objectAdmin", "roles/cloudtasks.enqueuer",
                 "roles/cloudtasks.viewer", "roles/secretmanager.secretAccessor"):
        out.append(Step([*g, "projects", "add-iam-policy-binding", project, f"--member=serviceAccount:{api_sa}",
                         f"--role={role}", "--condition=None"]))
    out.append(Step([*g, "iam", "service-accounts", "add-iam-policy-binding", tasks_sa,
                     f"--member=serviceAccount:{api_sa}", "--role=roles/iam.serviceAccountUser"]))
    env = ",".join(f"{name}={value}" for name, value in function_env(project, region, base_url, supabase_url).items())
    secrets = ",".join(f"{variable}={secret}:latest" for secret, variable in SECRETS.items())
    for family in DEPLOYED:
        access = "--no-allow-unauthenticated" if family.name == "task_worker" else "--allow-unauthenticated"
        out.append(Step([*g, "functions", "deploy", function_name(family.name), "--gen2", "--runtime=python311",
                         f"--region={region}", f"--source={ROOT}", f"--entry-point={family.name}", "--trigger-http",
                         access, f"--service-account={api_sa}", f"--set-env-vars={env}",
                         f"--set-secrets={secrets}", "--memory=1Gi", "--timeout=540s"]))
    # Only the queue's identity may call the task worker.
    out.append(Step([*g, "functions", "add-invoker-policy-binding", function_name("task_worker"),
                     f"--region={region}", f"--member=serviceAccount:{tasks_sa}"]))
    for job in JOBS:
        name = f"drgero-{job.name}"
        header = f"Authorization=Bearer $(gcloud --project={project} secrets versions access latest " \
                 f"--secret=drgero-cron-secret)"
        out.append(Step(["sh", "-c", " ".join(shlex.quote(part) for part in [
            *g, "scheduler", "jobs", "create", "http", name, f"--location={region}", f"--schedule={job.cron}",
            f"--uri={base_url}{job.path}", "--http-method=POST"]) + f' --headers="{header}"'],
            unless=[*g, "scheduler", "jobs", "describe", name, f"--location={region}"]))
    for family in DEPLOYED:
        name = function_name(family.name)
        out += [Step([*g, "compute", "network-endpoint-groups", "create", name, f"--region={region}",
                      "--network-endpoint-type=serverless", f"--cloud-function-name={name}"],
                     unless=[*g, "compute", "network-endpoint-groups", "describe", name, f"--region={region}"]),
                Step([*g, "compute", "backend-services", "create", name, "--global",
                      "--load-balancing-scheme=EXTERNAL_MANAGED"],
                     unless=[*g, "compute", "backend-services", "describe", name, "--global"]),
                # Attaching the NEG again is answered "already exists", which counts as done.
                Step([*g, "compute", "backend-services", "add-backend", name, "--global",
                      f"--network-endpoint-group={name}", f"--network-endpoint-group-region={region}"])]
    url_map_file = ROOT / "infra" / "build" / "urlmap.json"
    out.append(Step(["sh", "-c", f"mkdir -p {url_map_file.parent} && cat > {url_map_file} <<'JSON'\n"
                     f"{json.dumps(url_map(project))}\nJSON"]))
    out.append(Step([*g, "compute", "url-maps", "import", "drgero-api", f"--source={url_map_file}", "--global",
                     "--quiet"]))
    # The frontend: a global address, a Google-managed certificate for the base URL's host,
    # and the HTTPS proxy and forwarding rule. Point the host's DNS A record at the address.
    host = urlsplit(base_url).hostname or base_url
    out += [Step([*g, "compute", "addresses", "create", "drgero-api", "--global"],
                 unless=[*g, "compute", "addresses", "describe", "drgero-api", "--global"]),
            Step([*g, "compute", "ssl-certificates", "create", "drgero-api", f"--domains={host}", "--global"],
                 unless=[*g, "compute", "ssl-certificates", "describe", "drgero-api", "--global"]),
            Step([*g, "compute", "target-https-proxies", "create", "drgero-api", "--url-map=drgero-api",
                  "--ssl-certificates=drgero-api", "--global"],
                 unless=[*g, "compute", "target-https-proxies", "describe", "drgero-api", "--global"]),
            Step([*g, "compute", "forwarding-rules", "create", "drgero-api", "--global", "--address=drgero-api",
                  "--target-https-proxy=drgero-api", "--ports=443", "--load-balancing-scheme=EXTERNAL_MANAGED"],
                 unless=[*g, "compute", "forwarding-rules", "describe", "drgero-api", "--global"])]
    return out


def already_exists(stderr: str) -> bool:
    """gcloud's answer to creating what is there: "already exists", or the ALREADY_EXISTS status."""
    return "already exists" in stderr.lower().replace("_", " ")


def run_passing_stderr_through(command: list[str]) -> tuple[int, str]:
    """Run a command showing its progress as it comes, and return its exit code and stderr."""
    with subprocess.Popen(command, stderr=subprocess.PIPE, text=True) as process:
        stderr = []
        for line in process.stderr:
            sys.stderr.write(line)
            stderr.append(line)
    return process.returncode, "".join(stderr)


def perform(step: Step) -> str:
    """Run one step and say what it did; raise CalledProcessError when it failed for another reason."""
    if step.unless and subprocess.run(step.unless, capture_output=True).returncode == 0:
        return "skipped: it exists"
    code, stderr = run_passing_stderr_through(step.command)
    if code == 0:
        return "ran"
    if already_exists(stderr):
        return "already there: gcloud answered already exists"
    raise subprocess.CalledProcessError(code, step.command, stderr=stderr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.deploy", description=__doc__.splitlines()[0])
    parser.add_argument("--project", required=True)
    parser.add_argument("--region", default="europe-west1")
    parser.add_argument("--base-url", required=True, help="the API base URL the load balancer serves, https://...")
    parser.add_argument("--supabase-url", default="",
                        help="the Supabase project URL, https://<ref>.supabase.co, whose users get browser sessions")
    parser.add_argument("--dry-run", action="store_true", help="print the commands instead of running them")
    args = parser.parse_args(argv)
    for step in steps(args.project, args.region, args.base_url.rstrip("/"), args.supabase_url.rstrip("/")):
        line = shlex.join(step.command)
        if args.dry_run:
            print(f"{shlex.join(step.unless)} >/dev/null 2>&1 || {line}" if step.unless else line)
            continue
        print(f"$ {line}", flush=True)
        try:
            print(f"  -> {perform(step)}", flush=True)
        except subprocess.CalledProcessError as failure:
            print(f"  -> failed with exit code {failure.returncode}; stopping here", flush=True)
            return failure.returncode
    return 0


if __name__ == "__main__":
    sys.exit(main())
