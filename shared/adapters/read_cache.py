"""A per-instance read cache in front of a document store, for what nearly every request reads.

Tokens, leaderboards, candidates, dataset pointers and the quota and spend counters are read
on every push and every inference call, and change rarely, or mostly through the instance
that reads them. Reads of the collections named at wiring time are answered from memory
for up to `ttl` seconds:

- a write through this instance updates the cache at once (write-through), so a revoked
  token or a changed chosen model takes effect on this instance's next request;
- a write through another instance (another Cloud Run instance, the CLI) is seen once the
  entry expires: at most `ttl` seconds later;
- transactions always read the store itself; what they wrote is applied to the cache after
  they commit. The store does not say which version such a write got, so those documents
  are dropped from the single-document cache and kept in cached query answers with an
  empty version, which no precondition matches: a version-checked save from one fails,
  drops the entry, and the caller's retry reads afresh (as after any lost race).

Queries are cached only when they are plain equality filters (no order, window or
projection): a written document can then be put into or taken out of every cached answer
exactly. Cached data is kept encoded, so callers get their own copy to change.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar

import orjson

from shared.ports import Data, Doc, Documents, NotFound, PreconditionFailed, Query, Transaction

T = TypeVar("T")
MAX_ENTRIES = 20_000  # a bound on memory: past it the cache starts again empty
UNKNOWN_VERSION = ""


class ReadCache:
    """The Documents port, with reads of `collections` served from memory for up to `ttl` seconds."""

    def __init__(self, inner: Documents, collections: Iterable[str], ttl: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._inner, self._collections, self._ttl, self._clock = inner, frozenset(collections), ttl, clock
        self._docs: dict[tuple[str, str], tuple[float, bytes | None, str]] = {}
        # collection -> encoded filters -> (expiry, filters, {doc id: (encoded data, version)})
        self._queries: dict[str, dict[bytes, tuple[float, dict[str, Any], dict[str, tuple[bytes, str]]]]] = {}
        self._size = 0

    @property
    def inner(self) -> Documents:
        """The store behind the cache."""
        return self._inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)  # ping, close, count, ... as the store does them

    # Reads

    async def get(self, collection: str, doc_id: str) -> Doc | None:
        if collection not in self._collections:
            return await self._inner.get(collection, doc_id)
        entry = self._docs.get((collection, doc_id))
        if entry is not None and entry[0] > self._clock():
            return None if entry[1] is None else Doc(doc_id, orjson.loads(entry[1]), entry[2])
        doc = await self._inner.get(collection, doc_id)
        self._remember(collection, doc_id, doc)
        return doc

    async def query(self, query: Query) -> list[Doc]:
        if not self._cacheable(query):
            return await self._inner.query(query)
        key = orjson.dumps(query.where, option=orjson.OPT_SORT_KEYS)
        entry = self._queries.get(query.collection, {}).get(key)
        if entry is None or entry[0] <= self._clock():
            docs = await self._inner.query(query)
            self._make_room()
            entry = (self._clock() + self._ttl, dict(query.where),
                     {doc.id: (orjson.dumps(doc.data), doc.version) for doc in docs})
            self._queries.setdefault(query.collection, {})[key] = entry
            self._size += 1
        return [Doc(doc_id, orjson.loads(data), version) for doc_id, (data, version) in sorted(entry[2].items())]

    def _cacheable(self, query: Query) -> bool:
        return (query.collection in self._collections and not query.order_by and query.limit is None
                and not query.offset and not query.select and query.range is None)

    # Writes: through to the store, then into the cache

    async def create(self, collection: str, doc_id: str, data: Data) -> Doc:
        return self._written(collection, await self._inner.create(collection, doc_id, data))

    async def set(self, collection: str, doc_id: str, data: Data) -> Doc:
        return self._written(collection, await self._inner.set(collection, doc_id, data))

    async def update(self, collection: str, doc_id: str, changes: Data, *, if_version: str | None = None) -> Doc:
        try:
            doc = await self._inner.update(collection, doc_id, changes, if_version=if_version)
        except (PreconditionFailed, NotFound):
            self._forget(collection, doc_id)  # what this instance remembered is out of date
            raise
        return self._written(collection, doc)

    async def delete(self, collection: str, doc_id: str) -> bool:
        deleted = await self._inner.delete(collection, doc_id)
        self._forget(collection, doc_id)
        return deleted

    async def run_transaction(self, fn: Callable[[Transaction], Awaitable[T]]) -> T:
        writes: list[tuple[str, str, Data | None]] = []

        async def recorded(tx: Transaction) -> T:
            writes.clear()  # the function may run again after a lost race: keep the last attempt's
            return await fn(_Recording(tx, writes))

        result = await self._inner.run_transaction(recorded)
        for collection, doc_id, data in writes:
            if collection in self._collections:
                self._forget(collection, doc_id)
                if data is not None:
                    self._into_queries(collection, Doc(doc_id, data, UNKNOWN_VERSION))
        return result

    # The cache itself

    def _remember(self, collection: str, doc_id: str, doc: Doc | None) -> None:
        self._make_room()
        encoded = None if doc is None else orjson.dumps(doc.data)
        self._docs[(collection, doc_id)] = (self._clock() + self._ttl, encoded, doc.version if doc else "")
        self._size += 1

    def _written(self, collection: str, doc: Doc) -> Doc:
        if collection in self._collections:
            self._remember(collection, doc.id, doc)
            self._into_queries(collection, doc)
        return doc

    def _forget(self, collection: str, doc_id: str) -> None:
        self._docs.pop((collection, doc_id), None)
        for _, _, docs in self._queries.get(collection, {}).values():
            docs.pop(doc_id, None)

    def _into_queries(self, collection: str, doc: Doc) -> None:
        """Place the written document in every cached answer it now matches, and out of the others."""
        encoded = orjson.dumps(doc.data)
        for _, where, docs in self._queries.get(collection, {}).values():
            if all(doc.data.get(name) == value for name, value in where.items()):
                docs[doc.id] = (encoded, doc.version)
            else:
                docs.pop(doc.id, None)

    def _make_room(self) -> None:
        if self._size >= MAX_ENTRIES:  # counts replaced entries too: it only has to bound memory
            self._docs.clear()
            self._queries.clear()
            self._size = 0


class _Recording:
    """A transaction that also notes what it writes, for the cache to apply after the commit."""

    def __init__(self, tx: Transaction, writes: list[tuple[str, str, Data | None]]) -> None:
        self._tx, self._writes = tx, writes

    async def get(self, collection: str, doc_id: str) -> Doc | None:
        return await self._tx.get(collection, doc_id)

    def create(self, collection: str, doc_id: str, data: Data) -> None:
        self._tx.create(collection, doc_id, data)
        self._writes.append((collection, doc_id, data))

    def set(self, collection: str, doc_id: str, data: Data) -> None:
        self._tx.set(collection, doc_id, data)
        self._writes.append((collection, doc_id, data))

    def delete(self, collection: str, doc_id: str) -> None:
        self._tx.delete(collection, doc_id)
        self._writes.append((collection, doc_id, None))
