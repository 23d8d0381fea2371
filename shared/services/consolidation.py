"""Consolidation: pending push batches become a new immutable JSONL version of the dataset.

The steps, and why a crash at any point loses and doubles nothing:

1. Read the dataset pointer (current version, its blobs, the manifest of batch ids it
   consumed). Unless the pointer says so already, mark that manifest's batches
   consolidated: a previous run may have moved the pointer and died before marking them. Until they are marked they still look
   pending, so this must happen before step 2 reads what is pending.
2. List the pending batches (bounded per version).
3. Stream the current version and the pending rows into a NEW blob with a fresh name
   (create-only), with a sidecar of 16-byte row digests and a manifest of the batch ids.
   A crash here leaves only unreferenced blobs behind.
4. Move the pointer to the new version with a precondition on the pointer's version. This
   is the commit: exactly one of two racing runs wins; the loser deletes its blobs.
5. Mark the batches consolidated (dropping their rows), note that on the pointer, and
   delete versions older than the previous one.
   A crash here is repaired by step 1 of the next run.

Dedupe keeps the first occurrence of each row identity (its id, or its input + expected
when it has no id). With `auto_limit_size` the dataset keeps the newest
`max_samples_to_gather` rows and drops the oldest; without it, rows past the cap are
dropped at consolidation (and refused at push time when the cap is visibly reached).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import IO, Any

import orjson

from shared.ports import Deps
from shared.errors import ConflictError
from shared.ports import AlreadyExists, Data, Doc, NotFound, Order, PreconditionFailed, Query
from shared.services.records import PUSH_BATCHES, PUSH_DATASETS, now_iso

MAX_BATCHES_PER_VERSION = 20_000
BATCH_PAGE = 500
DIGEST_BYTES = 16
STREAM_CHUNK = 256 * 1024


def row_digest(row: Data) -> bytes:
    """A row's identity: its id when it has one, else its input and expected."""
    if row.get("id") is not None:
        text = "i\x00" + str(row["id"])
    else:
        text = "c\x00" + row["input"] + "\x00" + ("" if row.get("expected") is None else "e" + row["expected"])
    return hashlib.blake2b(text.encode(), digest_size=DIGEST_BYTES).digest()


def stored_row(row: Data, batch_id: str, index: int) -> Data:
    """The row as the dataset file holds it: rows pushed without an id get a stable one."""
    return row if row.get("id") is not None else {**row, "id": f"{batch_id}-{index}"}


@dataclass
class Outcome:
    """What one consolidation did."""

    leaderboard_id: str
    version: int
    rows: int
    batches: int = 0
    merged: int = 0
    deduplicated: int = 0
    dropped: int = 0
    consolidated_at: str | None = None
    changed: bool = False

    def as_json(self) -> dict[str, Any]:
        return {"leaderboard_id": self.leaderboard_id, "changed": self.changed, "version": self.version,
                "rows": self.rows, "batches": self.batches, "merged_rows": self.merged,
                "deduplicated_rows": self.deduplicated, "dropped_rows": self.dropped,
                "consolidated_at": self.consolidated_at}


def pending_query(leaderboard_id: str, **window: Any) -> Query:
    return Query(PUSH_BATCHES, where={"leaderboard_id": leaderboard_id, "state": "pending"},
                 order_by=(Order("created_at"),), **window)


async def consolidate(deps: Deps, board: Data) -> Outcome:
    """Fold every pending batch of a PUSH leaderboard into a new dataset version."""
    leaderboard_id = board["id"]
    pointer = await deps.documents.get(PUSH_DATASETS, leaderboard_id)
    current = pointer.data if pointer else {}
    if current and not current.get("marked"):
        await _mark_consolidated(deps, await _manifest(deps, current))
    batches = [doc.data for doc in await deps.documents.query(pending_query(
        leaderboard_id, limit=MAX_BATCHES_PER_VERSION, select=("id", "row_count", "created_at")))]
    outcome = Outcome(leaderboard_id, current.get("version", 0), current.get("rows", 0),
                      consolidated_at=current.get("consolidated_at"))
    if not batches:
        return outcome
    version = outcome.version + 1
    base = f"datasets/{leaderboard_id}/v{version:08d}-{deps.ids.new_id()[:8]}"
    written = await _write_version(deps, board, current, batches, base)
    ids = [batch["id"] for batch in batches]
    await deps.blobs.put(f"{base}.batches.json", json.dumps(ids).encode(), if_generation=0,
                         content_type="application/json")
    accepted = sum(batch["row_count"] for batch in batches)
    new_pointer = {
        "workspace_id": board["workspace_id"], "leaderboard_id": leaderboard_id, "version": version,
        "blob_key": f"{base}.jsonl", "keys_key": f"{base}.keys", "manifest_key": f"{base}.batches.json",
        "previous_blob_key": current.get("blob_key"), "rows": written.rows,
        "consolidated_accepted": current.get("consolidated_accepted", 0) + accepted,
        "consolidated_at": now_iso(deps), "marked": False,
    }
    committed = await _commit(deps, pointer, new_pointer, base)
    await _mark_consolidated(deps, ids)
    with contextlib.suppress(PreconditionFailed):  # a newer version took over; it marks its own
        await deps.documents.update(PUSH_DATASETS, leaderboard_id, {"marked": True}, if_version=committed.version)
    await _retire_old_versions(deps, leaderboard_id, version)
    written.version, written.batches, written.changed = version, len(batches), True
    written.consolidated_at = new_pointer["consolidated_at"]
    return written


async def _commit(deps: Deps, pointer: Doc | None, new_pointer: Data, base: str) -> Doc:
    try:
        if pointer is None:
            return await deps.documents.create(PUSH_DATASETS, new_pointer["leaderboard_id"], new_pointer)
        return await deps.documents.update(PUSH_DATASETS, pointer.id, new_pointer, if_version=pointer.version)
    except (AlreadyExists, PreconditionFailed):
        for suffix in (".jsonl", ".keys", ".batches.json"):
            await deps.blobs.delete(base + suffix)
        raise ConflictError("Another consolidation of this dataset finished first; nothing was lost.",
                            code="consolidation_conflict") from None


async def _manifest(deps: Deps, current: Data) -> list[str]:
    if not current.get("manifest_key"):
        return []
    data, _ = await deps.blobs.get(current["manifest_key"])
    return json.loads(data)


async def _mark_consolidated(deps: Deps, batch_ids: list[str]) -> None:
    """Mark batches consolidated and drop their rows, which now live in the dataset.

    The batch keeps its response, so a late retry of the push still replays it.
    """
    for batch_id in batch_ids:
        try:
            await deps.documents.update(PUSH_BATCHES, batch_id, {"state": "consolidated", "rows": []})
        except NotFound:
            pass  # deleted with its leaderboard


async def _retire_old_versions(deps: Deps, leaderboard_id: str, version: int) -> None:
    # Keep the previous version for readers still streaming it; a newer, uncommitted
    # version of a concurrent run has a higher number and is never touched.
    for blob in await deps.blobs.list(f"datasets/{leaderboard_id}/v"):
        number = int(blob.key.rsplit("/", 1)[1][1:9])
        if number < version - 1:
            await deps.blobs.delete(blob.key)


class _Spool:
    """Rows and digests of the version being built, on local disk (constant memory)."""

    def __init__(self) -> None:
        self.lines: IO[bytes] = tempfile.TemporaryFile()
        self.digests: IO[bytes] = tempfile.TemporaryFile()
        self.count = 0

    def add(self, line: bytes, digest: bytes) -> None:
        self.lines.write(line)
        self.digests.write(digest)
        self.count += 1

    def close(self) -> None:
        self.lines.close()
        self.digests.close()


async def _write_version(deps: Deps, board: Data, current: Data, batches: list[Data], base: str) -> Outcome:
    outcome = Outcome(board["id"], 0, 0)
    seen: set[bytes] | None = set() if board.get("dedupe", True) else None
    spool = _Spool()
    try:
        if current.get("blob_key"):
            await _spool_current(deps, current, spool, seen)
        for batch in batches:
            doc = await deps.documents.get(PUSH_BATCHES, batch["id"])
            if doc is None:
                continue
            for index, row in enumerate(doc.data["rows"]):
                digest = row_digest(row)
                if seen is not None:
                    if digest in seen:
                        outcome.deduplicated += 1
                        continue
                    seen.add(digest)
                spool.add(orjson.dumps(stored_row(row, batch["id"], index), option=orjson.OPT_APPEND_NEWLINE),
                          digest)
                outcome.merged += 1
        seen = None  # free the identities before uploading
        cap = board.get("max_samples_to_gather") or spool.count
        skip = max(0, spool.count - cap)
        outcome.dropped, outcome.rows = skip, spool.count - skip
        await deps.blobs.write_stream(f"{base}.jsonl", _from(spool.lines, skip, None), if_generation=0,
                                      content_type="application/x-ndjson")
        await deps.blobs.write_stream(f"{base}.keys", _from(spool.digests, skip, DIGEST_BYTES), if_generation=0)
    finally:
        spool.close()
    return outcome


async def _spool_current(deps: Deps, current: Data, spool: _Spool, seen: set[bytes] | None) -> None:
    """Copy the current version's lines as bytes, and its digests from the sidecar."""
    digests = _records(deps.blobs.read_stream(current["keys_key"], chunk_size=STREAM_CHUNK), DIGEST_BYTES)
    async for line in lines(deps.blobs.read_stream(current["blob_key"], chunk_size=STREAM_CHUNK)):
        digest = await anext(digests)
        if seen is not None:
            seen.add(digest)
        spool.add(line, digest)


async def lines(chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """The lines of a byte stream, each ending in a newline (one is added to an unterminated last line)."""
    rest = b""
    async for chunk in chunks:
        rest += chunk
        *whole, rest = rest.split(b"\n")
        for line in whole:
            yield line + b"\n"
    if rest:
        yield rest + b"\n"


async def _records(chunks: AsyncIterator[bytes], size: int) -> AsyncIterator[bytes]:
    rest = b""
    async for chunk in chunks:
        rest += chunk
        whole = len(rest) - len(rest) % size
        for start in range(0, whole, size):
            yield rest[start:start + size]
        rest = rest[whole:]


async def _from(spool: IO[bytes], skip: int, record_size: int | None) -> AsyncIterator[bytes]:
    """The spooled file from its `skip`-th record on, in chunks."""
    spool.seek(0)
    if record_size is not None:
        spool.seek(skip * record_size)
    else:
        for _ in range(skip):
            spool.readline()
    while chunk := spool.read(STREAM_CHUNK):
        yield chunk


async def read_dataset(deps: Deps, leaderboard_id: str) -> tuple[Data | None, AsyncIterator[bytes] | None]:
    """The current version's pointer and a stream of its JSONL bytes (None before the first)."""
    pointer = await deps.documents.get(PUSH_DATASETS, leaderboard_id)
    if pointer is None:
        return None, None
    return pointer.data, deps.blobs.read_stream(pointer.data["blob_key"], chunk_size=STREAM_CHUNK)
