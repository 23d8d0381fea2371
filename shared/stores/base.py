"""A store per aggregate on the Documents port: collection, tenancy, paging and version-checked saves.

A read-modify-write goes through `change`: the aggregate is read with its version, changed
in memory and saved only if nobody wrote it meanwhile; otherwise it is read again and the
change applied again, and after a few lost races the caller gets 409 `conflict`. So a PATCH
and a background write (a run's ranking, run-due's bookkeeping) can never erase each other.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, Generic, TypeVar

from shared.domain.aggregate import Aggregate
from shared.errors import ConflictError, NotFoundError
from shared.ports import Doc, Documents, Order, PreconditionFailed, Query

A = TypeVar("A", bound=Aggregate)
NEWEST_FIRST = (Order("created_at", descending=True),)
OLDEST_FIRST = (Order("created_at"),)
SAVE_ATTEMPTS = 5


class Store(Generic[A]):
    collection: ClassVar[str]
    aggregate: ClassVar[type[Aggregate]]
    label: ClassVar[str]  # how a not-found error names it

    def __init__(self, documents: Documents) -> None:
        self.documents = documents

    def load(self, doc: Doc) -> A:
        # Most documents hold their id; a few (pointers keyed by their leaderboard) do not.
        data = doc.data if doc.data.get("id") == doc.id else {**doc.data, "id": doc.id}
        found = self.aggregate.model_validate(data)
        found._revision = doc.version
        return found  # type: ignore[return-value]

    async def get(self, doc_id: str) -> A | None:
        doc = await self.documents.get(self.collection, doc_id)
        return self.load(doc) if doc is not None else None

    async def get_owned(self, doc_id: str, workspace_id: str) -> A:
        """The aggregate if it belongs to the workspace; otherwise exactly like a missing one."""
        found = await self.get(doc_id)
        if found is None or getattr(found, "workspace_id", None) != workspace_id:
            raise self.not_found(doc_id)
        return found

    def not_found(self, doc_id: str) -> NotFoundError:
        return NotFoundError(f"{self.label} {doc_id} not found.")

    async def create(self, new: A) -> A:
        """Store a new aggregate (AlreadyExists if its id is taken)."""
        new._revision = (await self.documents.create(self.collection, new.id, new.stored())).version
        return new

    async def save(self, changed: A) -> A:
        """Write the whole aggregate if it is unchanged since it was read (PreconditionFailed otherwise)."""
        if changed.revision is None:
            return await self.create(changed)
        doc = await self.documents.update(self.collection, changed.id, changed.stored(), if_version=changed.revision)
        changed._revision = doc.version
        return changed

    async def change(self, doc_id: str, apply: Callable[[A], Any], workspace_id: str | None = None,
                     attempts: int = SAVE_ATTEMPTS) -> A:
        """Read, `apply` (which changes the aggregate in place), save with the version checked; retried on a race."""
        for _ in range(attempts):
            current = await (self.get_owned(doc_id, workspace_id) if workspace_id else self._must_get(doc_id))
            apply(current)
            try:
                return await self.save(current)
            except PreconditionFailed:
                continue  # someone wrote in between: read their version and apply the change to it
        raise ConflictError(f"The {self.label.lower()} kept changing while this request tried to change it; "
                            "retry.", code="conflict")

    async def update(self, doc_id: str, changes: dict[str, Any]) -> A:
        """Merge a few fields nothing else computes from (a token's last use): no version check."""
        return self.load(await self.documents.update(self.collection, doc_id, changes))

    async def delete(self, doc_id: str) -> bool:
        return await self.documents.delete(self.collection, doc_id)

    async def find(self, where: dict[str, Any], order: tuple[Order, ...] = OLDEST_FIRST, **window: Any) -> list[A]:
        """Every match (or a window of them), oldest first unless told otherwise."""
        docs = await self.documents.query(Query(self.collection, where=where, order_by=order, **window))
        return [self.load(doc) for doc in docs]

    async def page(self, where: dict[str, Any], limit: int, offset: int,
                   order: tuple[Order, ...] = NEWEST_FIRST) -> tuple[list[A], int]:
        """One page of matches and the total count, newest first unless told otherwise."""
        query = Query(self.collection, where=where, order_by=order, limit=limit, offset=offset)
        return [self.load(doc) for doc in await self.documents.query(query)], await self.documents.count(query)

    async def _must_get(self, doc_id: str) -> A:
        found = await self.get(doc_id)
        if found is None:
            raise self.not_found(doc_id)
        return found
