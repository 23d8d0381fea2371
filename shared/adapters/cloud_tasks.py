"""TaskQueue on Cloud Tasks: each task is an HTTP POST to the task worker function.

A task's Cloud Tasks name is derived from the caller's natural key, so enqueueing the
same key twice is refused by Cloud Tasks itself while the first task is pending (and
for a while after it ran). The worker receives `POST {worker_url}/tasks/{kind}` with
the payload as a JSON body, authenticated by an OIDC token when a service account is set.

Every call gives up after a few seconds: a request that queues work (a run start, a push
reaching its consolidation threshold) should answer 503 soon rather than hang on a queue
that is down. With `emulator_host` the client talks plaintext gRPC to a local Cloud Tasks
emulator and needs no credentials.
"""

from __future__ import annotations

import hashlib
import json
import re
from contextlib import AbstractContextManager
from datetime import datetime, timedelta, timezone

import grpc
from google.api_core import exceptions as gexc
from google.api_core import retry_async
from google.auth import exceptions as auth_exceptions
from google.cloud import tasks_v2
from google.cloud.tasks_v2.services.cloud_tasks.transports import CloudTasksGrpcAsyncIOTransport

from shared.adapters.outages import outages_as_unavailable
from shared.auth.secrets import TASK_SIGNATURE_HEADER, task_signature
from shared.ports import Data, Unavailable

_KIND = re.compile(r"^[A-Za-z0-9_-]+$")  # it becomes a URL path segment
_NOT_IN_ID = re.compile(r"[^A-Za-z0-9_-]+")
SLUG_LENGTH = 60

_OUTAGES: tuple[type[BaseException], ...] = (
    gexc.ServiceUnavailable, gexc.DeadlineExceeded, gexc.InternalServerError,
    gexc.ResourceExhausted, gexc.RetryError,
    # No usable credentials is an outage of this deployment, not a bad request: 503, never 500.
    auth_exceptions.DefaultCredentialsError, auth_exceptions.TransportError, auth_exceptions.RefreshError,
)
CALL_SECONDS = 3.0
_CALL = {"timeout": CALL_SECONDS, "retry": retry_async.AsyncRetry(
    initial=0.1, maximum=1.0, multiplier=2.0, timeout=CALL_SECONDS,
    predicate=retry_async.if_exception_type(gexc.ServiceUnavailable, gexc.DeadlineExceeded))}
PING_TIMEOUT_SECONDS = 2.0


def task_id(name: str) -> str:
    """A valid, deterministic Cloud Tasks task id for a natural key."""
    digest = hashlib.sha256(name.encode()).hexdigest()
    slug = _NOT_IN_ID.sub("-", name).strip("-")[:SLUG_LENGTH]
    # Hash first: Cloud Tasks slows down on ids with sequential prefixes (timestamps,
    # counters), and the readable part is only there for people reading the console.
    return f"{digest}-{slug}" if slug else digest


def _outages_as_unavailable(what: str) -> AbstractContextManager[None]:
    return outages_as_unavailable(_OUTAGES, "cloud tasks", what)


def emulator_client(host: str) -> tasks_v2.CloudTasksAsyncClient:
    """A client on a plaintext gRPC channel to a Cloud Tasks emulator at host:port (call inside the loop)."""
    channel = grpc.aio.insecure_channel(host)
    return tasks_v2.CloudTasksAsyncClient(transport=CloudTasksGrpcAsyncIOTransport(channel=channel))


class CloudTasksQueue:
    """TaskQueue port on one Cloud Tasks queue with HTTP targets."""

    def __init__(
        self, project: str, location: str, queue: str, worker_url: str,
        service_account_email: str | None = None, *,
        client: tasks_v2.CloudTasksAsyncClient | None = None,
        signing_key: str | None = None, emulator_host: str = "",
    ) -> None:
        self._queue_path = tasks_v2.CloudTasksAsyncClient.queue_path(project, location, queue)
        self._worker_url = worker_url.rstrip("/")
        self._service_account_email = service_account_email
        self._signing_key = signing_key
        self._emulator_host = emulator_host
        # Built on first use: its gRPC channel belongs to the event loop that creates it.
        self._client = client

    @property
    def queue_path(self) -> str:
        """The full queue resource name."""
        return self._queue_path

    def task_name(self, name: str) -> str:
        """The full Cloud Tasks resource name used for the natural key `name`."""
        return f"{self._queue_path}/tasks/{task_id(name)}"

    def _tasks(self) -> tasks_v2.CloudTasksAsyncClient:
        if self._client is None:
            self._client = emulator_client(self._emulator_host) if self._emulator_host \
                else tasks_v2.CloudTasksAsyncClient()
        return self._client

    async def enqueue(
        self, kind: str, payload: Data, *, name: str, delay_seconds: float = 0
    ) -> bool:
        """Queue `kind` with `payload`; False when a task of that name is already queued."""
        task = self._task(kind, payload, self.task_name(name), delay_seconds)
        with _outages_as_unavailable(f"enqueue {kind} {name!r}"):
            if await self._exists(task.name):
                return False
            try:
                await self._tasks().create_task(parent=self._queue_path, task=task, **_CALL)
            except gexc.AlreadyExists:
                return False
        return True

    def _task(self, kind: str, payload: Data, task_name: str, delay_seconds: float) -> tasks_v2.Task:
        if not _KIND.match(kind):
            raise ValueError(f"bad task kind {kind!r}")
        url = f"{self._worker_url}/tasks/{kind}"
        body = json.dumps(payload, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json"}
        if self._signing_key:
            headers[TASK_SIGNATURE_HEADER] = task_signature(self._signing_key, kind, body)
        request = tasks_v2.HttpRequest(
            http_method=tasks_v2.HttpMethod.POST, url=url, headers=headers, body=body,
        )
        if self._service_account_email:
            request.oidc_token = tasks_v2.OidcToken(
                service_account_email=self._service_account_email, audience=self._worker_url,
            )
        task = tasks_v2.Task(name=task_name, http_request=request)
        if delay_seconds > 0:
            # Without a schedule time Cloud Tasks dispatches at once, on its own clock;
            # setting "now" from ours could only add skew.
            task.schedule_time = datetime.now(timezone.utc) + timedelta(seconds=delay_seconds)
        return task

    async def _exists(self, task_name: str) -> bool:
        """Whether a task of this name is pending (a cheap check before a create)."""
        try:
            await self._tasks().get_task(name=task_name, **_CALL)
        except gexc.NotFound:
            return False
        except gexc.PermissionDenied:
            # An enqueue-only role cannot read tasks; the create below still dedupes.
            return False
        except gexc.MethodNotImplemented:
            # The local emulator has no GetTask (and no name dedupe on create): list instead.
            return await self._listed(task_name)
        return True

    async def _listed(self, task_name: str) -> bool:
        pager = await self._tasks().list_tasks(parent=self._queue_path, **_CALL)
        async for task in pager:
            if task.name == task_name:
                return True
        return False

    async def ping(self) -> None:
        """Raise Unavailable unless the queue answers a read of itself quickly."""
        with _outages_as_unavailable("ping"):
            try:
                await self._tasks().get_queue(name=self._queue_path, retry=None, timeout=PING_TIMEOUT_SECONDS)
            except gexc.PermissionDenied:
                pass  # it answered; this identity may only enqueue, which is all the product needs
            except (gexc.NotFound, gexc.Unknown) as exc:  # the emulator answers Unknown for a missing queue
                raise Unavailable(f"cloud tasks: queue {self._queue_path} not found: {exc}") from exc

    async def aclose(self) -> None:
        """Close the gRPC channel, if one was opened."""
        if self._client is not None:
            await self._client.transport.close()
