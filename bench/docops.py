"""Document operations per single-row push, on the embedded store and on the Firestore emulator.

What a push costs the document store is what it costs in Firestore's bill and in round trips,
whatever the CPU. A counting decorator sits between the instance's read cache and the store
(where production's calls leave the process): every document read (a get, each document a
query returns, at least one per query, as Firestore bills), every document written, and
every commit (a transaction, or a write outside one). After WARMUP pushes (the caches and
quota shards in place), MEASURED pushes go through the app in process.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx

from functions.server import create_app
from infra import emulators
from shared.adapters.read_cache import ReadCache
from shared.bootstrap import READ_MOSTLY, build
from shared.config import Settings
from shared.ports import Deps, Doc, Documents, Query, Transaction
from shared.schemas.leaderboards import LeaderboardCreate
from shared.services.api_tokens import create_api_token
from shared.services.leaderboards import create_leaderboard
from shared.services.workspaces import create_workspace

WARMUP, MEASURED = 50, 200
T = TypeVar("T")


class Counting:
    """A Documents decorator that counts reads, writes and commits as Firestore would bill them."""

    def __init__(self, inner: Documents) -> None:
        self._inner, self.counts = inner, Counter()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def get(self, collection: str, doc_id: str) -> Doc | None:
        self.counts["reads"] += 1
        return await self._inner.get(collection, doc_id)

    async def query(self, query: Query) -> list[Doc]:
        docs = await self._inner.query(query)
        self.counts["reads"] += max(1, len(docs))
        return docs

    async def _write(self, call: Awaitable[T]) -> T:
        self.counts["writes"] += 1
        self.counts["commits"] += 1
        return await call

    async def create(self, collection: str, doc_id: str, data: dict) -> Doc:
        return await self._write(self._inner.create(collection, doc_id, data))

    async def set(self, collection: str, doc_id: str, data: dict) -> Doc:
        return await self._write(self._inner.set(collection, doc_id, data))

    async def update(self, collection: str, doc_id: str, changes: dict, *, if_version: str | None = None) -> Doc:
        return await self._write(self._inner.update(collection, doc_id, changes, if_version=if_version))

    async def delete(self, collection: str, doc_id: str) -> bool:
        return await self._write(self._inner.delete(collection, doc_id))

    async def run_transaction(self, fn: Callable[[Transaction], Awaitable[T]]) -> T:
        counts = self.counts

        async def counted(tx: Transaction) -> T:
            counts["commits"] += 1  # a retried transaction commits (or tries to) once per attempt
            return await fn(_CountingTransaction(tx, counts))

        return await self._inner.run_transaction(counted)


class _CountingTransaction:
    def __init__(self, tx: Transaction, counts: Counter) -> None:
        self._tx, self._counts = tx, counts

    async def get(self, collection: str, doc_id: str) -> Doc | None:
        self._counts["reads"] += 1
        return await self._tx.get(collection, doc_id)

    def create(self, collection: str, doc_id: str, data: dict) -> None:
        self._counts["writes"] += 1
        self._tx.create(collection, doc_id, data)

    def set(self, collection: str, doc_id: str, data: dict) -> None:
        self._counts["writes"] += 1
        self._tx.set(collection, doc_id, data)

    def delete(self, collection: str, doc_id: str) -> None:
        self._counts["writes"] += 1
        self._tx.delete(collection, doc_id)


def _counted(deps: Deps) -> tuple[Deps, Counting]:
    """`deps` with a counter under its read cache (the cache's own hits are not store operations)."""
    cache = deps.documents
    counting = Counting(cache.inner if isinstance(cache, ReadCache) else cache)
    documents = ReadCache(counting, READ_MOSTLY, deps.settings.cache_seconds) if isinstance(cache, ReadCache) \
        else counting
    return dataclasses.replace(deps, documents=documents), counting


async def per_push(built: Deps) -> dict[str, float]:
    """Reads, writes and commits per single-row push, averaged over MEASURED pushes."""
    deps, counting = _counted(built)
    workspace = await create_workspace(deps, "bench")
    token, _ = await create_api_token(deps, workspace.id, "bench", ["leaderboards:write"])
    board = await create_leaderboard(deps, workspace.id, LeaderboardCreate.model_validate(
        {"name": "bench", "system_prompt": "{input}", "dataset_type": "PUSH", "daily_event_limit": 10_000_000,
         "monthly_event_limit": 300_000_000, "consolidate_every_events": 1_000_000}))
    transport = httpx.ASGITransport(app=create_app(deps))
    async with httpx.AsyncClient(transport=transport, base_url="http://bench.test",
                                 headers={"Authorization": f"Bearer {token}"}) as client:
        async def push(n: int) -> None:
            answer = await client.post(f"/v1/leaderboard/{board.id}/dataset/push",
                                       json={"id": f"row-{n}", "input": f"question {n}", "output": f"answer {n}"})
            assert answer.status_code == 202, answer.text
        for n in range(WARMUP):
            await push(n)
        counting.counts.clear()
        for n in range(WARMUP, WARMUP + MEASURED):
            await push(n)
    await deps.chat.aclose()
    return {kind: counting.counts[kind] / MEASURED for kind in ("reads", "writes", "commits")}


def _settings(home: str) -> Settings:
    return Settings(_env_file=None, data_dir=Path(home), ticker_seconds=0)


async def embedded() -> dict[str, float]:
    with tempfile.TemporaryDirectory() as home:
        return await per_push(build(_settings(home)))


async def firestore() -> dict[str, float]:
    """The same pushes with documents in the Firestore emulator (blobs and queue stay embedded:
    a single-row push touches neither)."""
    from shared.adapters.firestore import FirestoreDocuments  # noqa: PLC0415 - the GCP client, only here

    with tempfile.TemporaryDirectory() as home:
        child, host = emulators.start_firestore(Path(home))
        before = os.environ.get("FIRESTORE_EMULATOR_HOST")
        os.environ["FIRESTORE_EMULATOR_HOST"] = host
        try:
            deps = build(_settings(home))
            store = ReadCache(FirestoreDocuments("drgero-bench", prefix="bench_"), READ_MOSTLY,
                              deps.settings.cache_seconds)
            return await per_push(dataclasses.replace(deps, documents=store))
        finally:
            if before is None:
                os.environ.pop("FIRESTORE_EMULATOR_HOST", None)
            else:
                os.environ["FIRESTORE_EMULATOR_HOST"] = before
            child.stop()


def line(backend: str, counts: dict[str, float]) -> str:
    return (f"push: document operations per single-row push ({backend}): {counts['reads']:.2f} reads, "
            f"{counts['writes']:.2f} writes, {counts['commits']:.2f} commits")
