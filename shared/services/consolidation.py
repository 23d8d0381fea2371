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

from shared.domain.leaderboard import Leaderboard
from shared.domain.push_dataset import PushDataset
from shared.domain.times import iso
from shared.errors import ConflictError
from shared.ports import AlreadyExists, Data, Deps, NotFound, PreconditionFailed
from shared.stores.push_datasets import PushBatches, PushDatasets

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


async def consolidate(deps: Deps, board: Leaderboard) -> Outcome:
    """Fold every pending batch of a PUSH leaderboard into a new dataset version."""
    pointers, batch_store = PushDatasets(deps.documents), PushBatches(deps.documents)
    pointer = await pointers.get(board.id)
    if pointer is not None and not pointer.marked:
        await _mark_consolidated(deps, await _manifest(deps, pointer))
    batches = [doc.data for doc in await deps.documents.query(batch_store.pending(
        board.id, limit=MAX_BATCHES_PER_VERSION, select=("id", "row_count", "created_at")))]
    current = pointer or PushDataset(id=board.id, workspace_id=board.workspace_id, leaderboard_id=board.id)
    outcome = Outcome(board.id, current.version, current.rows, consolidated_at=current.consolidated_at)
    if not batches:
        return outcome
    version = current.version + 1
    base = f"datasets/{board.id}/v{version:08d}-{deps.ids.new_id()[:8]}"
    written = await _write_version(deps, board, current, batches, base)
    ids = [batch["id"] for batch in batches]
    await deps.blobs.put(f"{base}.batches.json", json.dumps(ids).encode(), if_generation=0,
                         content_type="application/json")
    accepted = sum(batch["row_count"] for batch in batches)
    consolidated_at = iso(deps.clock.now())
    new = current.model_copy(update={
        "version": version, "blob_key": f"{base}.jsonl", "keys_key": f"{base}.keys",
        "manifest_key": f"{base}.batches.json", "previous_blob_key": current.blob_key, "rows": written.rows,
        "consolidated_accepted": current.consolidated_accepted + accepted, "consolidated_at": consolidated_at,
        "marked": False})
    new._revision = current.revision
    committed = await _commit(deps, new, base)
    await _mark_consolidated(deps, ids)
    committed.marked = True
    with contextlib.suppress(PreconditionFailed):  # a newer version took over; it marks its own
        await pointers.save(committed)
    await _retire_old_versions(deps, board.id, version)
    written.version, written.batches, written.changed = version, len(batches), True
    written.consolidated_at = consolidated_at
    return written


async def _commit(deps: Deps, new: PushDataset, base: str) -> PushDataset:
    try:
        return await PushDatasets(deps.documents).save(new)  # created, or moved from the version it was read at
    except (AlreadyExists, PreconditionFailed):
        for suffix in (".jsonl", ".keys", ".batches.json"):
            await deps.blobs.delete(base + suffix)
        raise ConflictError("Another consolidation of this dataset finished first; nothing was lost.",
                            code="consolidation_conflict") from None


async def _manifest(deps: Deps, pointer: PushDataset) -> list[str]:
    if not pointer.manifest_key:
        return []
    data, _ = await deps.blobs.get(pointer.manifest_key)
    return json.loads(data)


async def _mark_consolidated(deps: Deps, batch_ids: list[str]) -> None:
    """Mark batches consolidated and drop their rows, which now live in the dataset.

    The batch keeps its response, so a late retry of the push still replays it.
    """
    batches = PushBatches(deps.documents)
    for batch_id in batch_ids:
        try:
            await batches.update(batch_id, {"state": "consolidated", "rows": []})
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


async def _write_version(deps: Deps, board: Leaderboard, current: PushDataset, batches: list[Data],
                         base: str) -> Outcome:
    outcome = Outcome(board.id, 0, 0)
    seen: set[bytes] | None = set() if board.dedupe else None
    spool = _Spool()
    batch_store = PushBatches(deps.documents)
    try:
        if current.blob_key:
            await _spool_current(deps, current, spool, seen)
        for summary in batches:
            batch = await batch_store.get(summary["id"])
            if batch is None:
                continue
            for index, row in enumerate(batch.rows):
                digest = row_digest(row)
                if seen is not None:
                    if digest in seen:
                        outcome.deduplicated += 1
                        continue
                    seen.add(digest)
                spool.add(orjson.dumps(stored_row(row, batch.id, index), option=orjson.OPT_APPEND_NEWLINE), digest)
                outcome.merged += 1
        seen = None  # free the identities before uploading
        cap = board.max_samples_to_gather
        skip = max(0, spool.count - cap)
        outcome.dropped, outcome.rows = skip, spool.count - skip
        await deps.blobs.write_stream(f"{base}.jsonl", _from(spool.lines, skip, None), if_generation=0,
                                      content_type="application/x-ndjson")
        await deps.blobs.write_stream(f"{base}.keys", _from(spool.digests, skip, DIGEST_BYTES), if_generation=0)
    finally:
        spool.close()
    return outcome


async def _spool_current(deps: Deps, current: PushDataset, spool: _Spool, seen: set[bytes] | None) -> None:
    """Copy the current version's lines as bytes, and its digests from the sidecar."""
    digests = _records(deps.blobs.read_stream(current.keys_key or "", chunk_size=STREAM_CHUNK), DIGEST_BYTES)
    async for line in lines(deps.blobs.read_stream(current.blob_key or "", chunk_size=STREAM_CHUNK)):
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


async def read_dataset(deps: Deps, leaderboard_id: str) -> tuple[PushDataset | None, AsyncIterator[bytes] | None]:
    """The current version's pointer and a stream of its JSONL bytes (None before the first)."""
    pointer = await PushDatasets(deps.documents).get(leaderboard_id)
    if pointer is None or not pointer.blob_key:
        return pointer, None
    return pointer, deps.blobs.read_stream(pointer.blob_key, chunk_size=STREAM_CHUNK)
