"""Builds the GCP adapters on the emulators, isolated per test, for the contract suite; and the
`backend` fixture (a pytest plugin of the root conftest) that runs a test on each backend.

Documents get a collection prefix of their own, blobs a fresh bucket, and the task queue
a fresh Cloud Tasks queue that is deleted afterwards (so delayed or failing tasks from one
test never reach another test's worker).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import threading
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from google.cloud import tasks_v2

from shared.adapters.cloud_tasks import CloudTasksQueue, emulator_client
from shared.adapters.firestore import FirestoreDocuments
from shared.adapters.gcs import GcsBlobs
from shared.adapters.local_queue import LocalQueue
from shared.ports import Deps, TaskHandler
from tests.emulators import FirestoreEmulator, GcsEmulator, TasksEmulator


def _unique(label: str) -> str:
    return f"{label}{uuid.uuid4().hex[:12]}"


def gcp_documents(emulator: FirestoreEmulator) -> FirestoreDocuments:
    """Firestore documents whose collections no other test can see."""
    # The emulator settles lock conflicts one winner per ~2 s round, so N concurrent
    # transactions on one document need up to N attempts; Firestore itself needs far fewer.
    return FirestoreDocuments(emulator.project, prefix=_unique("t") + "_", max_attempts=20)


def gcp_blobs(emulator: GcsEmulator) -> GcsBlobs:
    """GCS blobs in a bucket of their own."""
    return GcsBlobs(emulator.create_bucket(), emulator.project)


@pytest.fixture(params=["embedded", pytest.param("gcp", marks=pytest.mark.emulator)])
def backend(request, deps: Deps, tmp_path: Path) -> Deps:
    """The deps on each backend in turn: embedded, then Firestore and GCS on their emulators."""
    if request.param == "embedded":
        return deps
    return dataclasses.replace(deps, documents=gcp_documents(request.getfixturevalue("firestore_emulator")),
                               blobs=gcp_blobs(request.getfixturevalue("gcs_emulator")),
                               queue=LocalQueue(tmp_path / "gcp-queue.sqlite3"))


def tasks_client(emulator: TasksEmulator) -> tasks_v2.CloudTasksAsyncClient:
    """An async Cloud Tasks client on a plaintext channel to the emulator (call inside the loop)."""
    return emulator_client(emulator.host)


@asynccontextmanager
async def gcp_queue(emulator: TasksEmulator, worker_url: str,
                    signing_key: str | None = None) -> AsyncIterator[CloudTasksQueue]:
    """A Cloud Tasks queue of its own that sends tasks to `worker_url`, deleted on exit."""
    client = tasks_client(emulator)
    queue_id = _unique("q")
    path = client.queue_path(emulator.project, emulator.location, queue_id)
    await client.create_queue(parent=emulator.parent, queue=tasks_v2.Queue(name=path))
    queue = CloudTasksQueue(emulator.project, emulator.location, queue_id, worker_url, client=client,
                            signing_key=signing_key)
    try:
        yield queue
    finally:
        # Deleting the queue also stops the emulator from retrying its leftover tasks forever.
        await client.delete_queue(name=path)
        await queue.aclose()


@dataclass(frozen=True)
class Received:
    """One request the stand-in worker got."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class HttpWorker:
    """A local HTTP server standing in for the task worker function.

    It records every request; with a `handler`, `POST /tasks/<kind>` also runs
    `handler(kind, payload)` on the event loop that started the worker, answering 500 when
    it raises so Cloud Tasks retries, as the real worker does. Use it as a context manager
    from inside a running loop.
    """

    def __init__(self, handler: TaskHandler | None = None) -> None:
        self.received: list[Received] = []
        self._handler = handler
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._request_class())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """The base URL to give CloudTasksQueue as worker_url."""
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> HttpWorker:
        self._loop = asyncio.get_running_loop()
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    async def wait_for(self, count: int, timeout: float = 20.0) -> list[Received]:
        """Wait until at least `count` requests arrived and return them all."""

        async def arrived() -> None:
            while len(self.received) < count:
                await asyncio.sleep(0.02)

        await asyncio.wait_for(arrived(), timeout)
        return list(self.received)

    def _answer(self, request: Received) -> int:
        self.received.append(request)
        kind = request.path.removeprefix("/tasks/")
        if self._handler is None or request.method != "POST" or kind == request.path:
            return 200
        assert self._loop is not None
        try:
            future = asyncio.run_coroutine_threadsafe(self._handler(kind, request.json()), self._loop)
            future.result(timeout=30)
        except Exception:  # any failure is a 500, which makes Cloud Tasks retry
            return 500
        return 200

    def _request_class(self) -> type[BaseHTTPRequestHandler]:
        worker = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the name http.server dispatches to
                length = int(self.headers.get("Content-Length") or 0)
                request = Received("POST", self.path, dict(self.headers.items()),
                                   self.rfile.read(length))
                self.send_response(worker._answer(request))
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                pass  # keep test output clean

        return Handler
