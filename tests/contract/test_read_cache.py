"""The per-instance read cache over real stores: two instances share one store, each with its own cache.

"Another instance" is a second store client on the same SQLite file or Firestore emulator
database, as a second Cloud Run instance (or the CLI) would be. The caches' clock is moved
by hand, so the bound on staleness is checked without waiting for it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.adapters.firestore import FirestoreDocuments
from shared.adapters.read_cache import ReadCache
from shared.adapters.sqlite import SqliteDocuments
from shared.ports import Documents, PreconditionFailed, Query

TTL = 2.0
CACHED = ("tokens", "counters")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["embedded", pytest.param("gcp", marks=pytest.mark.emulator)])
def stores(request, tmp_path: Path) -> Iterator[tuple[Documents, Documents]]:
    """Two clients of one store."""
    if request.param == "embedded":
        first, second = SqliteDocuments(tmp_path / "docs.sqlite3"), SqliteDocuments(tmp_path / "docs.sqlite3")
        yield first, second
        first.close()
        second.close()
        return
    emulator = request.getfixturevalue("firestore_emulator")
    prefix = f"c{uuid.uuid4().hex[:10]}_"
    yield FirestoreDocuments(emulator.project, prefix=prefix), FirestoreDocuments(emulator.project, prefix=prefix)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def instances(stores, clock) -> tuple[ReadCache, ReadCache]:
    return ReadCache(stores[0], CACHED, TTL, clock), ReadCache(stores[1], CACHED, TTL, clock)


def by_hash(digest: str) -> Query:
    return Query("tokens", where={"token_hash": digest})


async def test_a_write_is_seen_at_once_here_and_within_the_ttl_elsewhere(instances, clock):
    here, elsewhere = instances
    await here.create("tokens", "t1", {"token_hash": "h1", "revoked_at": None})
    assert (await elsewhere.query(by_hash("h1")))[0].data["revoked_at"] is None  # now cached there
    assert (await elsewhere.get("tokens", "t1")).data["revoked_at"] is None
    await here.update("tokens", "t1", {"revoked_at": "2026-12-01T00:00:00Z"})
    assert (await here.query(by_hash("h1")))[0].data["revoked_at"] == "2026-12-01T00:00:00Z"
    assert (await here.get("tokens", "t1")).data["revoked_at"] == "2026-12-01T00:00:00Z"
    assert (await elsewhere.get("tokens", "t1")).data["revoked_at"] is None  # within the bound
    clock.now += TTL + 0.01
    assert (await elsewhere.query(by_hash("h1")))[0].data["revoked_at"] == "2026-12-01T00:00:00Z"
    assert (await elsewhere.get("tokens", "t1")).data["revoked_at"] == "2026-12-01T00:00:00Z"


async def test_cached_answers_follow_writes_into_and_out_of_their_filter(instances):
    here, _ = instances
    await here.create("tokens", "a", {"token_hash": "x", "workspace_id": "w"})
    assert [doc.id for doc in await here.query(Query("tokens", where={"workspace_id": "w"}))] == ["a"]
    await here.set("tokens", "b", {"token_hash": "y", "workspace_id": "w"})
    await here.set("tokens", "a", {"token_hash": "x", "workspace_id": "other"})
    assert [doc.id for doc in await here.query(Query("tokens", where={"workspace_id": "w"}))] == ["b"]
    await here.delete("tokens", "b")
    assert await here.query(Query("tokens", where={"workspace_id": "w"})) == []
    assert await here.get("tokens", "b") is None


async def test_transaction_writes_reach_cached_answers_of_the_same_instance(instances):
    here, _ = instances
    await here.set("counters", "board.0", {"board": "b", "used": 1})
    assert sum(doc.data["used"] for doc in await here.query(Query("counters", where={"board": "b"}))) == 1

    async def add_two(tx):
        doc = await tx.get("counters", "board.0")
        tx.set("counters", "board.0", {"board": "b", "used": doc.data["used"] + 2})
        tx.create("counters", "board.1", {"board": "b", "used": 5})

    await here.run_transaction(add_two)
    assert sum(doc.data["used"] for doc in await here.query(Query("counters", where={"board": "b"}))) == 8
    assert (await here.get("counters", "board.0")).data["used"] == 3  # read afresh, with its real version


async def test_a_stale_version_fails_once_and_the_retry_reads_afresh(instances):
    here, elsewhere = instances
    await here.create("tokens", "t", {"token_hash": "h", "name": "first"})
    stale = await elsewhere.get("tokens", "t")
    await here.update("tokens", "t", {"name": "second"})
    with pytest.raises(PreconditionFailed):
        await elsewhere.update("tokens", "t", {"name": "lost"}, if_version=stale.version)
    fresh = await elsewhere.get("tokens", "t")  # the failed save dropped the cached copy
    assert fresh.data["name"] == "second"
    await elsewhere.update("tokens", "t", {"name": "third"}, if_version=fresh.version)
    assert (await elsewhere.get("tokens", "t")).data["name"] == "third"


async def test_callers_get_their_own_copy(instances):
    here, _ = instances
    await here.create("tokens", "t", {"token_hash": "h", "scopes": ["a"]})
    (await here.get("tokens", "t")).data["scopes"].append("admin")
    (await here.query(by_hash("h")))[0].data["scopes"].append("admin")
    assert (await here.get("tokens", "t")).data["scopes"] == ["a"]
    assert (await here.query(by_hash("h")))[0].data["scopes"] == ["a"]


async def test_other_collections_and_ordered_or_windowed_queries_read_the_store(instances):
    here, elsewhere = instances
    await here.create("runs", "r", {"state": "queued"})
    await here.create("tokens", "t", {"token_hash": "h", "n": 1})
    assert (await here.get("runs", "r")).data["state"] == "queued"
    assert len(await here.query(Query("tokens", where={"token_hash": "h"}, limit=1))) == 1
    await elsewhere.update("runs", "r", {"state": "running"})
    await elsewhere.update("tokens", "t", {"n": 2})
    assert (await here.get("runs", "r")).data["state"] == "running"
    assert (await here.query(Query("tokens", where={"token_hash": "h"}, limit=1)))[0].data["n"] == 2
