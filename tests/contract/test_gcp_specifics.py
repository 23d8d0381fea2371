"""What only the GCP adapters need checked, beyond the shared contract suite.

The wire format Cloud Tasks delivers to the worker function, and blob uploads large
enough for the storage client to switch to resumable uploads.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncIterator

import pytest

from shared.ports import PreconditionFailed
from tests.contract.gcp_backends import HttpWorker, gcp_blobs, gcp_queue

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
    from shared.auth.secrets import task_signature

    with HttpWorker() as worker:
        async with gcp_queue(tasks_emulator, worker.url, signing_key="k" * 32) as queue:
            await queue.enqueue("consolidate_push_dataset", {"leaderboard_id": "x"}, name="sig-1")
            [request] = await worker.wait_for(1)
    expected = task_signature("k" * 32, "consolidate_push_dataset", request.body)
    headers = {name.lower(): value for name, value in request.headers.items()}  # case-insensitive
    assert headers["x-drgero-task-signature"] == expected
