"""Session fixtures that start the real GCP emulators: Firestore, fake-gcs-server, Cloud Tasks.

The processes are started by `infra.emulators` (what `make serve-gcp` uses too). A fixture
that cannot start its emulator fails the tests that need it, with the end of the
emulator's log, instead of skipping them: a skipped emulator test hides a broken setup.
"""

from __future__ import annotations

import os
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

import pytest

from infra import emulators
from infra.emulators import EmulatorFailed, free_port  # noqa: F401 - tests import free_port from here

PROJECT = "drgero-test"
LOCATION = "europe-west1"
T = TypeVar("T")


def started(name: str, start: Callable[[], T]) -> T:
    """Run an emulator's start function, failing (never skipping) the tests that need it."""
    began = time.monotonic()
    try:
        result = start()
    except EmulatorFailed as exc:
        pytest.fail(str(exc), pytrace=False)
    # Visible with `pytest -s`; start times matter when the suite feels slow.
    print(f"\n{name} emulator ready in {time.monotonic() - began:.1f}s", file=sys.stderr)
    return result


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
    child, host = started("firestore", lambda: emulators.start_firestore(tmp_path_factory.mktemp("firestore")))
    try:
        with environment("FIRESTORE_EMULATOR_HOST", host):
            yield FirestoreEmulator(host, PROJECT)
    finally:
        child.stop()


@dataclass(frozen=True)
class GcsEmulator:
    """fake-gcs-server: `url` is what STORAGE_EMULATOR_HOST holds."""

    url: str
    project: str

    def create_bucket(self, name: str | None = None) -> str:
        """Create a bucket (a fresh random name by default) and return its name."""
        name = name or f"test-{uuid.uuid4().hex[:16]}"
        emulators.create_bucket(self.url, self.project, name)
        return name


@pytest.fixture(scope="session")
def gcs_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GcsEmulator]:
    """fake-gcs-server in memory, with STORAGE_EMULATOR_HOST set for the session."""
    child, url = started("gcs", lambda: emulators.start_gcs(tmp_path_factory.mktemp("gcs"), PROJECT))
    try:
        with environment("STORAGE_EMULATOR_HOST", url):
            yield GcsEmulator(url, PROJECT)
    finally:
        child.stop()


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
    queue = f"projects/{PROJECT}/locations/{LOCATION}/queues/default"
    child, host = started("tasks", lambda: emulators.start_tasks(tmp_path_factory.mktemp("tasks"), (queue,)))
    try:
        yield TasksEmulator(host, PROJECT, LOCATION, queue)
    finally:
        child.stop()
