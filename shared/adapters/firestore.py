"""Documents on Cloud Firestore (native mode) through the async client.

A document's version is its Firestore `update_time`, rendered as an RFC 3339 string at
full precision; `update(if_version=...)` turns it back into an update-time precondition,
so the check happens on the server, atomically with the write.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any, TypeVar

from google.api_core import exceptions as gexc
from google.api_core.datetime_helpers import DatetimeWithNanoseconds
from google.cloud import firestore
from google.cloud.firestore_v1.field_path import FieldPath

from shared.adapters.outages import outages_as_unavailable
from shared.ports import (
    AlreadyExists,
    Data,
    Doc,
    NotFound,
    PreconditionFailed,
    Query,
    Transaction,
    Unavailable,
)

T = TypeVar("T")

# Errors that mean "the service is not answering right now", as opposed to a bad request.
_OUTAGES: tuple[type[BaseException], ...] = (
    gexc.ServiceUnavailable, gexc.DeadlineExceeded, gexc.InternalServerError, gexc.Aborted,
    gexc.ResourceExhausted, gexc.RetryError, asyncio.TimeoutError,
)
PING_TIMEOUT_SECONDS = 2.0
FIRST_BACKOFF_SECONDS = 0.05
MAX_BACKOFF_SECONDS = 2.0


def _outages_as_unavailable(what: str) -> AbstractContextManager[None]:
    return outages_as_unavailable(_OUTAGES, "firestore", what)


def _path(field: str) -> str:
    # Quote the name as one segment, so a key can never be read as a nested field path.
    return FieldPath(field).to_api_repr()


def _version(update_time: DatetimeWithNanoseconds) -> str:
    return update_time.rfc3339()


def _update_time(version: str) -> DatetimeWithNanoseconds | None:
    try:
        return DatetimeWithNanoseconds.from_rfc3339(version)
    except ValueError:
        return None


def _doc(snapshot: Any) -> Doc | None:
    if not snapshot.exists:
        return None
    return Doc(snapshot.id, snapshot.to_dict() or {}, _version(snapshot.update_time))


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception and everything it was raised from or while handling."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


class FirestoreDocuments:
    """Documents port on Firestore; `prefix` goes in front of every collection name."""

    def __init__(
        self, project: str, database: str = "(default)", prefix: str = "", *,
        max_attempts: int = 8,
    ) -> None:
        # The client opens its gRPC channel lazily, on the event loop of the first call.
        self._client = firestore.AsyncClient(project=project, database=database)
        self._prefix = prefix
        self._max_attempts = max_attempts

    def _ref(self, collection: str, doc_id: str) -> firestore.AsyncDocumentReference:
        return self._client.collection(self._prefix + collection).document(doc_id)

    async def get(self, collection: str, doc_id: str) -> Doc | None:
        """The document, or None when it does not exist."""
        with _outages_as_unavailable(f"get {collection}/{doc_id}"):
            return _doc(await self._ref(collection, doc_id).get())

    async def create(self, collection: str, doc_id: str, data: Data) -> Doc:
        """Create-if-absent; raises AlreadyExists when the id is taken."""
        with _outages_as_unavailable(f"create {collection}/{doc_id}"):
            try:
                result = await self._ref(collection, doc_id).create(data)
            except gexc.AlreadyExists as exc:
                raise AlreadyExists(f"{collection}/{doc_id}") from exc
        return Doc(doc_id, dict(data), _version(result.update_time))

    async def set(self, collection: str, doc_id: str, data: Data) -> Doc:
        """Write the whole document, replacing whatever was there."""
        with _outages_as_unavailable(f"set {collection}/{doc_id}"):
            result = await self._ref(collection, doc_id).set(data)
        return Doc(doc_id, dict(data), _version(result.update_time))

    async def update(
        self, collection: str, doc_id: str, changes: Data, *, if_version: str | None = None
    ) -> Doc:
        """Merge top-level fields; NotFound if absent, PreconditionFailed on a stale version."""
        if not changes:
            return await self._unchanged(collection, doc_id, if_version)
        ref = self._ref(collection, doc_id)
        # One field path per top-level key: a dict value replaces the old value whole,
        # where set(merge=True) would merge nested maps key by key.
        fields = {_path(key): value for key, value in changes.items()}
        with _outages_as_unavailable(f"update {collection}/{doc_id}"):
            try:
                await ref.update(fields, option=self._precondition(collection, doc_id, if_version))
            except gexc.NotFound as exc:
                raise NotFound(f"{collection}/{doc_id}") from exc
            except gexc.FailedPrecondition as exc:
                # An update-time precondition also fails on a missing document; tell them apart.
                if not (await ref.get()).exists:
                    raise NotFound(f"{collection}/{doc_id}") from exc
                raise PreconditionFailed(f"{collection}/{doc_id} changed") from exc
            # Read back for the merged data; if another write landed in between, this
            # returns that newer state with its own version, which is still consistent.
            doc = _doc(await ref.get())
        if doc is None:
            raise NotFound(f"{collection}/{doc_id}")
        return doc

    def _precondition(self, collection: str, doc_id: str, if_version: str | None) -> Any:
        if if_version is None:
            return None
        update_time = _update_time(if_version)
        if update_time is None:
            # Not a version this store ever issued, so it cannot be current.
            raise PreconditionFailed(f"{collection}/{doc_id}: unknown version {if_version!r}")
        return self._client.write_option(last_update_time=update_time)

    async def _unchanged(self, collection: str, doc_id: str, if_version: str | None) -> Doc:
        # Firestore refuses an empty update, so an empty change set only checks the preconditions.
        doc = await self.get(collection, doc_id)
        if doc is None:
            raise NotFound(f"{collection}/{doc_id}")
        if if_version is not None and doc.version != if_version:
            raise PreconditionFailed(f"{collection}/{doc_id} changed")
        return doc

    async def delete(self, collection: str, doc_id: str) -> bool:
        """Delete the document; False when there was nothing to delete."""
        ref = self._ref(collection, doc_id)
        with _outages_as_unavailable(f"delete {collection}/{doc_id}"):
            # Firestore deletes are blind; an exists precondition tells us whether it was there.
            try:
                await ref.delete(option=self._client.write_option(exists=True))
            except gexc.NotFound:
                return False
        return True

    def _filtered(self, query: Query) -> Any:
        built: Any = self._client.collection(self._prefix + query.collection)
        for name, value in query.where.items():
            # `== None` becomes Firestore's IS_NULL filter inside the client.
            built = built.where(filter=firestore.FieldFilter(_path(name), "==", value))
        bound = query.range
        if bound is not None and bound.low is not None:
            built = built.where(filter=firestore.FieldFilter(_path(bound.field), ">=", bound.low))
        if bound is not None and bound.high is not None:
            built = built.where(filter=firestore.FieldFilter(_path(bound.field), "<", bound.high))
        return built

    async def query(self, query: Query) -> list[Doc]:
        """Documents matching the equality filters, ordered and paged."""
        if query.limit == 0:
            return []
        built = self._filtered(query)
        for order in query.order_by:
            direction = firestore.Query.DESCENDING if order.descending else firestore.Query.ASCENDING
            built = built.order_by(_path(order.field), direction=direction)
        if query.offset:
            built = built.offset(query.offset)
        if query.limit is not None:
            built = built.limit(query.limit)
        if query.select:
            built = built.select([_path(name) for name in query.select])
        with _outages_as_unavailable(f"query {query.collection}"):
            return [doc async for snapshot in built.stream() if (doc := _doc(snapshot))]

    async def count(self, query: Query) -> int:
        """How many documents match the filters (limit and offset are ignored)."""
        aggregation = self._filtered(query).count(alias="n")
        with _outages_as_unavailable(f"count {query.collection}"):
            results = await aggregation.get()
        return int(results[0][0].value)

    async def run_transaction(self, fn: Callable[[Transaction], Awaitable[T]]) -> T:
        """Run `fn` in a Firestore transaction, retried with jittered backoff on contention.

        The client's own retry starts the next attempt at once, so contending
        transactions collide again; spreading them out lets one win per round.
        """

        @firestore.async_transactional
        async def attempt(transaction: firestore.AsyncTransaction) -> T:
            return await fn(_Transaction(self, transaction))

        backoff = FIRST_BACKOFF_SECONDS
        for attempt_number in range(1, self._max_attempts + 1):
            try:
                return await attempt(self._client.transaction(max_attempts=1))
            except Exception as exc:
                if attempt_number < self._max_attempts and _contended(exc):
                    await asyncio.sleep(random.uniform(backoff / 2, backoff))
                    backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
                    continue
                mapped = _transaction_error(exc)
                if mapped is exc:
                    raise
                raise mapped from exc
        raise AssertionError("unreachable: the last attempt returns or raises")

    async def ping(self) -> None:
        """Raise Unavailable unless a single cheap read answers within a couple of seconds."""
        ref = self._client.collection(self._prefix + "_health").document("ping")
        try:
            # No client-side retries: readiness probes need a fast answer, not a patient one.
            await asyncio.wait_for(ref.get(retry=None, timeout=PING_TIMEOUT_SECONDS),
                                   PING_TIMEOUT_SECONDS + 0.5)
        except (gexc.GoogleAPIError, asyncio.TimeoutError, OSError) as exc:
            raise Unavailable(f"firestore: ping: {exc}") from exc


def _contended(exc: BaseException) -> bool:
    """Whether a transaction lost to a concurrent one (worth another attempt)."""
    return any(isinstance(cause, gexc.Aborted) for cause in _chain(exc))


def _transaction_error(exc: Exception) -> Exception:
    """What a failed transaction should raise: ours for store errors, the caller's own otherwise."""
    if isinstance(exc, ValueError) and isinstance(exc.__cause__, gexc.Aborted):
        # The client gave up after max_attempts commits lost to contention.
        return Unavailable(f"firestore: transaction: {exc}")
    if not isinstance(exc, (gexc.GoogleAPIError, asyncio.TimeoutError)):
        return exc  # raised by the transaction function itself: not ours to translate
    # A failed commit is rolled back, and a failing rollback hides the commit's error in the
    # exception context, so look through the chain for the reason.
    for cause in _chain(exc):
        if isinstance(cause, gexc.AlreadyExists):
            return AlreadyExists(str(cause.message))
        if isinstance(cause, _OUTAGES):
            return Unavailable(f"firestore: transaction: {cause}")
    return exc


class _Transaction:
    """The Transaction port over one attempt of a Firestore transaction."""

    def __init__(self, store: FirestoreDocuments, transaction: firestore.AsyncTransaction) -> None:
        self._store = store
        self._transaction = transaction
        self._wrote = False

    async def get(self, collection: str, doc_id: str) -> Doc | None:
        """Read a document inside the transaction (reads must come before writes)."""
        if self._wrote:
            raise RuntimeError("transactions must read before they write")
        ref = self._store._ref(collection, doc_id)
        return _doc(await ref.get(transaction=self._transaction))

    def create(self, collection: str, doc_id: str, data: Data) -> None:
        """Create at commit; the commit fails with AlreadyExists when the id is taken."""
        self._wrote = True
        self._transaction.create(self._store._ref(collection, doc_id), data)

    def set(self, collection: str, doc_id: str, data: Data) -> None:
        """Replace the whole document at commit."""
        self._wrote = True
        self._transaction.set(self._store._ref(collection, doc_id), data)

    def delete(self, collection: str, doc_id: str) -> None:
        """Delete the document at commit (nothing happens if it is absent)."""
        self._wrote = True
        self._transaction.delete(self._store._ref(collection, doc_id))
