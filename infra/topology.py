"""The deployed shape on one machine: `make serve-gcp`, and what the topology tests run.

Each endpoint family runs as its own functions-framework process (as Cloud Run runs it),
with exactly the settings `infra/deploy.py` gives the deployed functions (`function_env`,
plus secrets generated as deploy generates them), on the Firestore emulator,
fake-gcs-server and the Cloud Tasks emulator. A path router built from the URL map stands
in for the load balancer, and a scheduler stand-in calls the operator jobs with the cron
secret, as Cloud Scheduler does. Cloud Tasks delivers to the task worker's own port, as it
targets the worker function's URL in the cloud.

`python -m infra.topology [--port 8080]` starts it all, prints the `export` lines with
which `drgero` commands reach the same data, and stops everything on Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import os
import secrets
import shlex
import signal
import sys
import threading
import urllib.error
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import grpc
import httpx
from cronsim import CronSim
from google.api_core.exceptions import AlreadyExists
from google.cloud import tasks_v2
from google.cloud.tasks_v2.services.cloud_tasks.transports import CloudTasksGrpcTransport

from functions.families import DEPLOYED
from functions.operator_api import JOBS
from infra import emulators
from infra.deploy import QUEUE, SECRETS, bucket_name, function_env
from infra.emulators import Child, free_port, http_ok

ROOT = Path(__file__).resolve().parents[1]
PROJECT, REGION = "drgero-local", "europe-west1"
EMULATOR_VARIABLES = ("FIRESTORE_EMULATOR_HOST", "STORAGE_EMULATOR_HOST", "DRGERO_TASKS_EMULATOR_HOST")
# Settings that tie the functions to this topology's resources: the caller's environment
# cannot override them (any other DRGERO_* setting of the caller reaches every function).
WIRING = ("DRGERO_BACKEND", "DRGERO_GCP_PROJECT", "DRGERO_GCS_BUCKET", "DRGERO_TASKS_LOCATION",
          "DRGERO_TASKS_QUEUE", "DRGERO_WORKER_URL", "DRGERO_PUBLIC_BASE_URL", *EMULATOR_VARIABLES)


@dataclass(frozen=True)
class Emulators:
    """Where the three emulators listen."""

    firestore: str  # host:port
    gcs: str  # http://host:port
    tasks: str  # host:port

    def env(self) -> dict[str, str]:
        return dict(zip(EMULATOR_VARIABLES, (self.firestore, self.gcs, self.tasks)))


def start_emulators(log_dir: Path) -> tuple[list[Child], Emulators]:
    """Start all three; on a failure the ones already started are stopped."""
    started: list[Child] = []
    try:
        firestore, firestore_host = emulators.start_firestore(log_dir)
        started.append(firestore)
        gcs, gcs_url = emulators.start_gcs(log_dir, PROJECT)
        started.append(gcs)
        tasks, tasks_host = emulators.start_tasks(log_dir)
        started.append(tasks)
    except BaseException:
        for child in started:
            child.stop()
        raise
    return started, Emulators(firestore_host, gcs_url, tasks_host)


def new_secret() -> str:
    """What deploy stores in Secret Manager: a Fernet key, urlsafe base64 of 32 random bytes."""
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


@dataclass
class Topology:
    """Every family's function and a router on this machine's loopback, configured as deploy configures the cloud."""

    emulators: Emulators
    log_dir: Path
    port: int = field(default_factory=free_port)
    supabase_url: str = ""
    # Settings on top of deploy's (the caller's DRGERO_* for serve-gcp; test upstream allowances).
    overrides: dict[str, str] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=lambda: {family.name: free_port() for family in DEPLOYED})
    children: dict[str, Child] = field(default_factory=dict)

    def __post_init__(self) -> None:
        deployed = function_env(PROJECT, REGION, self.url, self.supabase_url, worker=self.function_url("task_worker"))
        chosen = {name: value for name, value in self.overrides.items() if name not in WIRING}
        self.settings = {**deployed, **{variable: new_secret() for variable in SECRETS.values()},
                         **self.emulators.env(), **chosen}

    @property
    def url(self) -> str:
        """The router: the one base URL, as the load balancer's."""
        return f"http://127.0.0.1:{self.port}"

    def function_url(self, family: str) -> str:
        return f"http://127.0.0.1:{self.ports[family]}"

    def cli_env(self) -> dict[str, str]:
        """What `drgero` commands need to reach this topology's data (and API_BASE for `drgero run`)."""
        return {**self.settings, "API_BASE": self.url}

    def start(self) -> None:
        """Create what deploy creates (bucket, queue), then start the functions and the router, all answering."""
        self._create_backends()
        for family in DEPLOYED:
            self.children[family.name] = self._spawn_function(family.name)
        self.children["router"] = emulators.start(
            "router", [sys.executable, "-m", "infra.router", "--port", str(self.port),
                       *(f"--backend={name}={self.function_url(name)}" for name in self.ports)],
            self.log_dir, env=self._process_env(), cwd=ROOT)
        for name, child in self.children.items():
            base = self.url if name == "router" else self.function_url(name)
            child.wait_until(lambda base=base: http_ok(f"{base}/healthz"), timeout=90)

    def start_function(self, family: str) -> None:
        """Start (again) one family's function and wait until it answers."""
        self.children[family] = child = self._spawn_function(family)
        child.wait_until(lambda: http_ok(f"{self.function_url(family)}/healthz"), timeout=90)

    def kill_function(self, family: str) -> None:
        """SIGKILL the function's whole process group, as a crashed instance."""
        self.children.pop(family).stop(signal.SIGKILL)

    def call_job(self, name: str, timeout: float = 120) -> dict:
        """What Cloud Scheduler does: POST the job's route through the base URL with the cron secret."""
        job = next(job for job in JOBS if job.name == name)
        response = httpx.post(self.url + job.path, timeout=timeout,
                              headers={"Authorization": f"Bearer {self.settings['DRGERO_CRON_SECRET']}"})
        response.raise_for_status()
        return response.json()

    def stop(self) -> None:
        for child in self.children.values():
            child.stop()
        self.children.clear()

    def _process_env(self) -> dict[str, str]:
        inherited = {name: value for name, value in os.environ.items()
                     if not name.startswith("DRGERO_") and name not in EMULATOR_VARIABLES}
        return {**inherited, **self.settings, "PYTHONUNBUFFERED": "1"}

    def _spawn_function(self, family: str) -> Child:
        # How Cloud Run starts a Python function: functions-framework with the entry point as target.
        command = [sys.executable, "-m", "functions_framework", f"--target={family}", f"--source={ROOT / 'main.py'}",
                   "--host=127.0.0.1", f"--port={self.ports[family]}"]
        return emulators.start(family, command, self.log_dir, env=self._process_env(), cwd=ROOT)

    def _create_backends(self) -> None:
        try:
            emulators.create_bucket(self.emulators.gcs, PROJECT, bucket_name(PROJECT))
        except urllib.error.HTTPError as exc:
            if exc.code != 409:  # 409: an earlier topology on these emulators made it
                raise
        client = tasks_v2.CloudTasksClient(transport=CloudTasksGrpcTransport(
            channel=grpc.insecure_channel(self.emulators.tasks)))
        parent = f"projects/{PROJECT}/locations/{REGION}"
        with contextlib.suppress(AlreadyExists):
            client.create_queue(parent=parent, queue=tasks_v2.Queue(name=f"{parent}/queues/{QUEUE}"))


def run_scheduler(topology: Topology, stop: threading.Event, every_seconds: float | None = None) -> None:
    """Call each operator job when its cron fires (or every `every_seconds`), until `stop` is set."""
    def after(job, moment: datetime) -> datetime:
        if every_seconds:
            return datetime.fromtimestamp(moment.timestamp() + every_seconds, UTC)
        return next(CronSim(job.cron, moment))

    now = datetime.now(UTC)
    due = {job.name: after(job, now) for job in JOBS}
    while not stop.is_set():
        name, when = min(due.items(), key=lambda item: item[1])
        if stop.wait(max(0.0, (when - datetime.now(UTC)).total_seconds())):
            return
        try:
            print(f"scheduler: {name} -> {topology.call_job(name)}", file=sys.stderr, flush=True)
        except httpx.HTTPError as exc:
            print(f"scheduler: {name} failed: {exc}", file=sys.stderr, flush=True)
        due[name] = after(next(job for job in JOBS if job.name == name), datetime.now(UTC))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.topology", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8080")),
                        help="where the path router (the API base URL) listens")
    parser.add_argument("--scheduler-seconds", type=float, default=None,
                        help="call every operator job this often instead of on its Cloud Scheduler cron")
    parser.add_argument("--logs", type=Path, default=ROOT / ".drgero" / "topology",
                        help="where each process writes its log")
    args = parser.parse_args(argv)
    args.logs.mkdir(parents=True, exist_ok=True)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    print(f"starting the emulators and the functions (logs in {args.logs}) ...", file=sys.stderr, flush=True)
    started, hosts = start_emulators(args.logs)
    overrides = {name: value for name, value in os.environ.items() if name.startswith("DRGERO_")}
    topology = Topology(hosts, args.logs, port=args.port, overrides=overrides)
    try:
        topology.start()
        exports = "".join(f"export {name}={shlex.quote(value)}\n" for name, value in sorted(topology.cli_env().items()))
        (args.logs / "env.sh").write_text(exports)
        (args.logs / "env.sh").chmod(0o600)  # it holds the secrets
        print(f"\n# The deployed shape is up. With these (also in {args.logs / 'env.sh'}), `drgero` commands reach "
              f"the same data:\n{exports}# API base URL: {topology.url} (Ctrl-C stops everything)", flush=True)
        run_scheduler(topology, stop, args.scheduler_seconds)
    finally:
        print("stopping ...", file=sys.stderr, flush=True)
        topology.stop()
        for child in started:
            child.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
