"""What only the GCP adapters need checked, beyond the shared contract suite.

The wire format Cloud Tasks delivers to the worker function, reaching the emulator from
settings alone, what an unreachable queue looks like, and blob uploads large enough for
the storage client to switch to resumable uploads.
"""

from __future__ import annotations

import hashlib
import os
import time
import uuid
from collections.abc import AsyncIterator

import pytest

from shared.adapters.cloud_tasks import CALL_SECONDS, CloudTasksQueue
from shared.auth.secrets import task_signature
from shared.bootstrap import build
from shared.ports import PreconditionFailed, Unavailable
from tests.conftest import make_settings
from tests.contract.gcp_backends import HttpWorker, gcp_blobs, gcp_queue
from tests.emulators import free_port

pytestmark = pytest.mark.emulator


async def test_a_task_reaches_the_worker_as_a_json_post_to_its_kind(tasks_emulator):
    with HttpWorker() as worker:
        async with gcp_queue(tasks_emulator, worker.url) as queue:
            assert await queue.enqueue("model_call", {"run": "r1", "row": 3}, name="run r1/row 3")
            [request] = await worker.wait_for(1)
    assert (request.method, request.path) == ("POST", "/tasks/model_call")
    assert request.headers["Content-Type"] == "application/json"
    assert request.json() == {"run": "r1", "row": 3}


async def _chunks(block: bytes, count: int) -> AsyncIterator[bytes]:
    for _ in range(count):
        yield block


async def test_uploads_above_the_multipart_limit_keep_create_only(gcs_emulator):
    # Over 8 MiB the client switches to a resumable upload. fake-gcs-server ignores
    # preconditions on those, so this exercises the adapter's own early check.
    blobs = gcp_blobs(gcs_emulator)
    block = os.urandom(1024 * 1024)
    first = await blobs.write_stream("huge.bin", _chunks(block, 9), if_generation=0)
    with pytest.raises(PreconditionFailed):
        await blobs.write_stream("huge.bin", _chunks(block, 9), if_generation=0)
    digest, size = hashlib.sha256(), 0
    async for part in blobs.read_stream("huge.bin", chunk_size=1 << 20):
        digest.update(part)
        size += len(part)
    assert (size, digest.hexdigest()) == (first.size, hashlib.sha256(block * 9).hexdigest())


async def test_signed_tasks_carry_a_signature_the_worker_accepts(tasks_emulator):
    with HttpWorker() as worker:
        async with gcp_queue(tasks_emulator, worker.url, signing_key="k" * 32) as queue:
            await queue.enqueue("consolidate_push_dataset", {"leaderboard_id": "x"}, name="sig-1")
            [request] = await worker.wait_for(1)
    expected = task_signature("k" * 32, "consolidate_push_dataset", request.body)
    headers = {name.lower(): value for name, value in request.headers.items()}  # case-insensitive
    assert headers["x-drgero-task-signature"] == expected


async def test_the_emulator_setting_alone_reaches_the_emulator_from_bootstrap(tasks_emulator, firestore_emulator,
                                                                              gcs_emulator, tmp_path):
    # What a deployed-shape process does: no client is handed in, only settings (the
    # Firestore and Storage clients find their emulators through their own variables).

    with HttpWorker() as worker:
        settings = make_settings(tmp_path, backend="gcp", gcp_project=tasks_emulator.project, gcs_bucket="unused",
                                 tasks_location=tasks_emulator.location,
                                 tasks_queue=tasks_emulator.queue.rsplit("/", 1)[1],
                                 worker_url=worker.url, tasks_emulator_host=tasks_emulator.host)
        queue = build(settings).queue
        await queue.ping()
        assert await queue.enqueue("model_call", {"n": 1}, name=f"bootstrap-{uuid.uuid4()}")
        [request] = await worker.wait_for(1)
        await queue.aclose()
    assert request.json() == {"n": 1}


async def test_a_queue_that_is_down_or_missing_is_unavailable_within_seconds(tasks_emulator):
    down = CloudTasksQueue("p", "l", "q", "http://127.0.0.1:9", emulator_host=f"127.0.0.1:{free_port()}")
    started = time.monotonic()
    with pytest.raises(Unavailable):
        await down.ping()
    with pytest.raises(Unavailable):
        await down.enqueue("model_call", {}, name="never")
    assert time.monotonic() - started < 3 * CALL_SECONDS
    missing = CloudTasksQueue(tasks_emulator.project, tasks_emulator.location, "no-such-queue", "http://127.0.0.1:9",
                              emulator_host=tasks_emulator.host)
    with pytest.raises(Unavailable, match="not found"):
        await missing.ping()
    await down.aclose()
    await missing.aclose()


async def test_without_credentials_an_enqueue_is_unavailable_not_a_crash(monkeypatch, tmp_path):
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "no-such-key.json"))
    queue = CloudTasksQueue("p", "europe-west1", "q", "https://worker.example")
    with pytest.raises(Unavailable, match="cloud tasks"):
        await queue.enqueue("model_call", {}, name="n")
