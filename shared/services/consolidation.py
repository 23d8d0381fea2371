"""Consolidation: pending push batches become a new immutable JSONL version of the dataset.

The steps, and why a crash at any point loses and doubles nothing:

1. Read the dataset pointer (current version, its blobs, the manifest of batch ids it
   consumed). Unless the pointer says so already, mark that manifest's batches
   consolidated: a previous run may have moved the pointer and died before marking them. Until they are marked they still look
   pending, so this must happen before step 2 reads what is pending. The item edits the
   version folded are dropped the same way (see item_edits).
2. List the pending batches (bounded per version) and the pending item edits.
3. Stream the current version, its deleted rows and the pending rows into NEW blobs with
   fresh names (create-only), each row with its edit applied: the rows, a sidecar of 16-byte
   row digests, the deleted rows and their digests, a manifest of the batch ids and one of
   the edits. A crash here leaves only unreferenced blobs behind.
4. Move the pointer to the new version with a precondition on the pointer's version. This
   is the commit: exactly one of two racing runs wins; the loser deletes its blobs.
5. Mark the batches consolidated (dropping their rows), note that on the pointer, and
   delete versions older than the previous one.
   A crash here is repaired by step 1 of the next run.

Dedupe keeps the first occurrence of each row identity (its id, or its input + expected
when it has no id). A deleted row's identity stays taken whatever the dedupe setting: the
same row pushed again is dropped until the deleted one is restored. With
`auto_limit_size` the dataset keeps the newest `max_samples_to_gather` rows and drops the
oldest; without it, rows past the cap are dropped at consolidation (and refused at push
time when the cap is visibly reached).
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

from shared.domain.dataset_items import in_file_order
from shared.domain.leaderboard import Leaderboard
from shared.domain.push_dataset import PushDataset
from shared.domain.times import iso
from shared.errors import ConflictError
from shared.ports import AlreadyExists, Data, Deps, NotFound, PreconditionFailed
from shared.services.item_edits import Folding, drop_folded, edit_manifest, pending_edits
from shared.stores.push_datasets import PushBatches, PushDatasets

MAX_BATCHES_PER_VERSION = 20_000
BATCH_PAGE = 500
DIGEST_BYTES = 16
STREAM_CHUNK = 256 * 1024
VERSION_FILES = (".jsonl", ".keys", ".deleted.jsonl", ".deleted.keys", ".batches.json", ".edits.json")


def row_digest(row: Data) -> bytes:
    """A row's identity: its id when it has one, else its input and expected."""
    if row.get("id") is not None:
        text = "i\x00" + str(row["id"])
    else:
        text = "c\x00" + row["input"] + "\x00" + ("" if row.get("expected") is None else "e" + row["expected"])
    return hashlib.blake2b(text.encode(), digest_size=DIGEST_BYTES).digest()


def stored_row(row: Data, batch_id: str, index: int) -> Data:
    """The row as the dataset file holds it: keys in file order, and an id (a stable one when pushed without)."""
    ordered = in_file_order(row)
    if ordered["id"] is None:
        ordered["id"] = f"{batch_id}-{index}"
    return ordered


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
    edited: int = 0
    deleted: int = 0
    consolidated_at: str | None = None
    changed: bool = False

    def as_json(self) -> dict[str, Any]:
        return {"leaderboard_id": self.leaderboard_id, "changed": self.changed, "version": self.version,
                "rows": self.rows, "batches": self.batches, "merged_rows": self.merged,
                "deduplicated_rows": self.deduplicated, "dropped_rows": self.dropped,
                "edited_rows": self.edited, "deleted_rows": self.deleted,
                "consolidated_at": self.consolidated_at}


async def consolidate(deps: Deps, board: Leaderboard) -> Outcome:
    """Fold every pending batch of a PUSH leaderboard into a new dataset version."""
    pointers, batch_store = PushDatasets(deps.documents), PushBatches(deps.documents)
    pointer = await pointers.get(board.id)
    if pointer is not None and not pointer.marked:
        await _mark_consolidated(deps, await _manifest(deps, pointer))
        await drop_folded(deps, await edit_manifest(deps, pointer))
    batches = [doc.data for doc in await deps.documents.query(batch_store.pending(
        board.id, limit=MAX_BATCHES_PER_VERSION, select=("id", "row_count", "created_at")))]
    folding = Folding(await pending_edits(deps, board.id))
    current = pointer or PushDataset(id=board.id, workspace_id=board.workspace_id, leaderboard_id=board.id)
    outcome = Outcome(board.id, current.version, current.rows, consolidated_at=current.consolidated_at)
    if not batches and not folding.edits:
        return outcome
    version = current.version + 1
    base = f"datasets/{board.id}/v{version:08d}-{deps.ids.new_id()[:8]}"
    written = await _write_version(deps, board, current, batches, folding, base)
    ids = [batch["id"] for batch in batches]
    await deps.blobs.put(f"{base}.batches.json", json.dumps(ids).encode(), if_generation=0,
                         content_type="application/json")
    await deps.blobs.put(f"{base}.edits.json", folding.manifest(), if_generation=0, content_type="application/json")
    accepted = sum(batch["row_count"] for batch in batches)
    consolidated_at = iso(deps.clock.now())
    new = current.model_copy(update={
        "version": version, "blob_key": f"{base}.jsonl", "keys_key": f"{base}.keys",
        "manifest_key": f"{base}.batches.json", "previous_blob_key": current.blob_key, "rows": written.rows,
        "deleted_key": f"{base}.deleted.jsonl", "deleted_keys_key": f"{base}.deleted.keys",
        "deleted_rows": written.deleted, "edits_key": f"{base}.edits.json",
        "consolidated_accepted": current.consolidated_accepted + accepted, "consolidated_at": consolidated_at,
        "marked": False})
    new._revision = current.revision
    committed = await _commit(deps, new, base)
    await _mark_consolidated(deps, ids)
    await drop_folded(deps, json.loads(folding.manifest()))
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
        for suffix in VERSION_FILES:
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
                         folding: Folding, base: str) -> Outcome:
    outcome = Outcome(board.id, 0, 0)
    seen: set[bytes] | None = set() if board.dedupe else None
    spool, graves = _Spool(), _Spool()
    try:
        # Both files of the current version before any pending row, so a deleted row's identity
        # is reserved before the pushes are read; restored rows go after the current ones.
        await _spool_version(deps, current.blob_key, current.keys_key, False, folding, spool, graves, seen)
        await _spool_version(deps, current.deleted_key, current.deleted_keys_key, True, folding, spool, graves, seen)
        await _spool_pending(deps, batches, folding, spool, graves, seen, outcome)
        seen = None  # free the identities before uploading
        cap = board.max_samples_to_gather
        skip = max(0, spool.count - cap)
        outcome.dropped, outcome.rows = skip, spool.count - skip
        outcome.edited, outcome.deleted = folding.edited, graves.count
        await deps.blobs.write_stream(f"{base}.jsonl", _from(spool.lines, skip, None), if_generation=0,
                                      content_type="application/x-ndjson")
        await deps.blobs.write_stream(f"{base}.keys", _from(spool.digests, skip, DIGEST_BYTES), if_generation=0)
        await deps.blobs.write_stream(f"{base}.deleted.jsonl", _from(graves.lines, 0, None), if_generation=0,
                                      content_type="application/x-ndjson")
        await deps.blobs.write_stream(f"{base}.deleted.keys", _from(graves.digests, 0, DIGEST_BYTES),
                                      if_generation=0)
    finally:
        spool.close()
        graves.close()
    return outcome


async def _spool_version(deps: Deps, blob_key: str | None, keys_key: str | None, deleted: bool, folding: Folding,
                         spool: _Spool, graves: _Spool, seen: set[bytes] | None) -> None:
    """Copy a file of the current version (its rows or its deleted rows), edits applied, digests from its sidecar."""
    if not blob_key:
        return
    digests = _records(deps.blobs.read_stream(keys_key or "", chunk_size=STREAM_CHUNK), DIGEST_BYTES)
    async for line in lines(deps.blobs.read_stream(blob_key, chunk_size=STREAM_CHUNK)):
        digest = await anext(digests)
        line, now_deleted = folding.place(line, digest, deleted)
        if now_deleted:
            graves.add(line, digest)
            continue
        if seen is not None:
            seen.add(digest)
        spool.add(line, digest)


async def _spool_pending(deps: Deps, batches: list[Data], folding: Folding, spool: _Spool, graves: _Spool,
                         seen: set[bytes] | None, outcome: Outcome) -> None:
    batch_store = PushBatches(deps.documents)
    for summary in batches:
        batch = await batch_store.get(summary["id"])
        if batch is None:
            continue
        for index, row in enumerate(batch.rows):
            digest = row_digest(row)
            if digest in folding.buried or (seen is not None and digest in seen):
                outcome.deduplicated += 1
                continue
            stored = stored_row(row, batch.id, index)
            line, deleted = folding.place(orjson.dumps(stored, option=orjson.OPT_APPEND_NEWLINE), digest, False,
                                          stored["id"])
            if deleted:
                graves.add(line, digest)
                continue
            if seen is not None:
                seen.add(digest)
            spool.add(line, digest)
            outcome.merged += 1


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
