"""Storage and queue ports: Documents, Blobs, TaskQueue; `shared.adapters` implements them.

Documents are plain JSON-like dicts (str, int, float, bool, None, list, dict). Times
are stored as ISO-8601 UTC strings so ordering is the same on SQLite and Firestore.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

T = TypeVar("T")
Data = dict[str, Any]


class StoreError(Exception):
    """Base of the errors every adapter raises in place of its backend's own."""


class AlreadyExists(StoreError):
    """A create-only write found something already there."""


class NotFound(StoreError):
    """The document or blob does not exist."""


class PreconditionFailed(StoreError):
    """A version or generation precondition did not hold."""


class Unavailable(StoreError):
    """The backend cannot be reached right now; the caller may retry."""


@dataclass(frozen=True)
class Doc:
    """A stored document: its id, data and an opaque version for preconditions."""

    id: str
    data: Data
    version: str


@dataclass(frozen=True)
class Order:
    field: str
    descending: bool = False


@dataclass(frozen=True)
class Range:
    """`field >= low` and/or `field < high` (strings compare as text, e.g. ISO times)."""

    field: str
    low: Any = None
    high: Any = None


@dataclass(frozen=True)
class Query:
    """Equality filters, ordering and a page window over one collection.

    `select` names the top-level fields to return (all when empty), so scans over large
    documents read only what they need. `range` bounds one field (Firestore allows range
    filters on a single field, which must then come first in the ordering).
    """

    collection: str
    where: dict[str, Any] = field(default_factory=dict)
    order_by: tuple[Order, ...] = ()
    limit: int | None = None
    offset: int = 0
    select: tuple[str, ...] = ()
    range: Range | None = None


class Transaction(Protocol):
    """Reads first, then writes; the writes apply atomically when the function returns.

    The transaction function may be run more than once (Firestore retries on
    contention), so it must not have side effects outside the transaction.
    """

    async def get(self, collection: str, doc_id: str) -> Doc | None: ...

    def create(self, collection: str, doc_id: str, data: Data) -> None: ...

    def set(self, collection: str, doc_id: str, data: Data) -> None: ...

    def delete(self, collection: str, doc_id: str) -> None: ...


class Documents(Protocol):
    """A document store: collections of JSON documents keyed by id."""

    async def get(self, collection: str, doc_id: str) -> Doc | None: ...

    async def create(self, collection: str, doc_id: str, data: Data) -> Doc:
        """Create-if-absent; raises AlreadyExists when the id is taken."""
        ...

    async def set(self, collection: str, doc_id: str, data: Data) -> Doc: ...

    async def update(
        self, collection: str, doc_id: str, changes: Data, *, if_version: str | None = None
    ) -> Doc:
        """Merge top-level fields; NotFound if absent, PreconditionFailed on a stale version."""
        ...

    async def delete(self, collection: str, doc_id: str) -> bool: ...

    async def query(self, query: Query) -> list[Doc]: ...

    async def count(self, query: Query) -> int:
        """How many documents match the filters (limit and offset are ignored)."""
        ...

    async def run_transaction(self, fn: Callable[[Transaction], Awaitable[T]]) -> T: ...

    async def ping(self) -> None:
        """Raise Unavailable when the store cannot be reached."""
        ...


@dataclass(frozen=True)
class BlobInfo:
    key: str
    size: int
    generation: int
    content_type: str = "application/octet-stream"


class Blobs(Protocol):
    """An object store for JSONL files, with GCS-style generation preconditions.

    `if_generation=0` means create-only; any other number means "only if the
    current generation is exactly this"; None means unconditional.
    """

    async def put(
        self, key: str, data: bytes, *, if_generation: int | None = None,
        content_type: str = "application/octet-stream",
    ) -> BlobInfo: ...

    async def write_stream(
        self, key: str, chunks: AsyncIterable[bytes], *, if_generation: int | None = None,
        content_type: str = "application/octet-stream",
    ) -> BlobInfo: ...

    async def get(self, key: str) -> tuple[bytes, BlobInfo]:
        """The whole blob and its info; NotFound if absent."""
        ...

    async def stat(self, key: str) -> BlobInfo | None: ...

    def read_stream(self, key: str, chunk_size: int = 65536) -> AsyncIterator[bytes]:
        """The blob in chunks, in constant memory; NotFound if absent."""
        ...

    async def list(self, prefix: str) -> list[BlobInfo]: ...

    async def delete(self, key: str) -> bool: ...

    async def ping(self) -> None: ...


class PermanentTaskError(Exception):
    """Raised by a task handler when retrying can never succeed; the task is dropped."""


TaskHandler = Callable[[str, Data], Awaitable[None]]


class TaskQueue(Protocol):
    """At-least-once queued work, like Cloud Tasks: handlers must be idempotent."""

    async def enqueue(
        self, kind: str, payload: Data, *, name: str, delay_seconds: float = 0
    ) -> bool:
        """Queue `kind` with `payload`; False when a task of that name is already queued.

        Raises Unavailable when the queue cannot be reached.
        """
        ...

    async def ping(self) -> None:
        """Raise Unavailable when the queue cannot be reached."""
        ...
