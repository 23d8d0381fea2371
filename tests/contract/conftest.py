"""Each contract test runs once per backend: the embedded adapters and the GCP ones on emulators.

The GCP side builds its adapters on the emulators started by the session fixtures in
tests/emulators.py; those fail the test loudly when an emulator cannot start.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from shared.adapters.files import FileBlobs
from shared.adapters.local_queue import LocalQueue
from shared.adapters.sqlite import SqliteDocuments
from tests import conftest
from tests.contract.gcp_backends import HttpWorker, gcp_blobs, gcp_documents, gcp_queue
from tests.contract.harness import Deliveries, QueueHarness


@pytest.fixture(autouse=True)
def _not_product_queries():
    """Contract tests query made-up collections; they say nothing about the product's indexes."""
    conftest.RECORDING["on"] = False
    yield
    conftest.RECORDING["on"] = True


BACKENDS = [
    pytest.param("embedded"),
    pytest.param("gcp", marks=pytest.mark.emulator),
]


@pytest.fixture(params=BACKENDS)
async def documents(request, tmp_path: Path) -> AsyncIterator[object]:
    if request.param == "gcp":
        yield gcp_documents(request.getfixturevalue("firestore_emulator"))
        return
    local = SqliteDocuments(tmp_path / "documents.sqlite3")
    yield local
    local.close()


@pytest.fixture(params=BACKENDS)
async def blobs(request, tmp_path: Path) -> AsyncIterator[object]:
    if request.param == "gcp":
        yield gcp_blobs(request.getfixturevalue("gcs_emulator"))
        return
    yield FileBlobs(tmp_path / "blobs")


@pytest.fixture(params=BACKENDS)
async def queue(request, tmp_path: Path) -> AsyncIterator[QueueHarness]:
    deliveries = Deliveries()
    if request.param == "gcp":
        emulator = request.getfixturevalue("tasks_emulator")
        with HttpWorker(deliveries.handle) as worker:
            async with gcp_queue(emulator, worker.url) as cloud:
                yield QueueHarness(cloud, deliveries, settle=_no_settle)
        return
    local = LocalQueue(tmp_path / "queue.sqlite3", min_backoff=0.01)
    local.start(deliveries.handle)
    yield QueueHarness(local, deliveries, settle=local.drain)
    await local.stop()


async def _no_settle() -> None:
    """Cloud Tasks offers no 'wait until idle'; tests wait on their deliveries instead."""
