"""Reading the rows of a PUSH dataset as items: the current version, its deleted rows, and pending pushes.

Items are read straight from the immutable files, with the pending edits applied on the
way out; nothing is indexed. Finding one item searches the file's bytes for the row's
opening `{"id":<id>,` (rows are written with the id first), at the speed of a byte
search rather than of parsing JSON; a list parses the rows it has to filter and stops as
soon as its page is full when the order is the dataset's own.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import orjson

from shared.domain.dataset_items import DatasetEdit, line_id
from shared.domain.push_dataset import PushDataset
from shared.ports import Deps
from shared.services.consolidation import STREAM_CHUNK, lines, stored_row
from shared.stores.push_datasets import PushBatches

CONSOLIDATED, PENDING = "consolidated", "pending"
PENDING_PAGE = 100


@dataclass(frozen=True)
class Found:
    """A row as stored (before its edit) and where it lives."""

    row: dict[str, Any]
    state: str


def _files(pointer: PushDataset | None) -> list[str]:
    if pointer is None:
        return []
    return [key for key in (pointer.blob_key, pointer.deleted_key) if key]


async def find(deps: Deps, pointer: PushDataset | None, leaderboard_id: str, item_id: str) -> Found | None:
    """The first row with this id: in the version's files, else among the pending pushes."""
    for key in _files(pointer):
        row = await _find_row(deps.blobs.read_stream(key, chunk_size=STREAM_CHUNK), item_id)
        if row is not None:
            return Found(row, CONSOLIDATED)
    async for row in _pending_rows(deps, leaderboard_id):
        if row["id"] == item_id:
            return Found(row, PENDING)
    return None


async def _find_row(chunks: AsyncIterator[bytes], item_id: str) -> dict[str, Any] | None:
    """The row whose id is `item_id`, found by searching the raw bytes for `"id":<id>` and parsing only the hits.

    A hit can be a nested `"id"` of the same value (in metadata); parsing the line tells.
    """
    needle = b'"id":' + orjson.dumps(item_id)
    rest = b""
    async for chunk in chunks:
        data = rest + chunk
        cut = data.rfind(b"\n") + 1  # whole lines only; the rest waits for the next chunk
        found = _row_in(data[:cut], needle, item_id)
        if found is not None:
            return found
        rest = data[cut:]
    return _row_in(rest, needle, item_id)


def _row_in(data: bytes, needle: bytes, item_id: str) -> dict[str, Any] | None:
    at = data.find(needle)
    while at >= 0:
        start, end = data.rfind(b"\n", 0, at) + 1, data.find(b"\n", at)
        end = len(data) if end < 0 else end
        row = orjson.loads(data[start:end])
        if row.get("id") == item_id:
            return row
        at = data.find(needle, end)
    return None


async def every_row(deps: Deps, pointer: PushDataset | None, leaderboard_id: str,
                    edits: dict[str, DatasetEdit], prefilter: bytes | None) -> AsyncIterator[Found]:
    """Every row in dataset order (current rows, deleted rows, pending rows), parsed.

    `prefilter`, when given, skips without parsing the unedited lines whose lowercased
    bytes do not contain it (a search term that cannot be in them).
    """
    for key in _files(pointer):
        async for line in lines(deps.blobs.read_stream(key, chunk_size=STREAM_CHUNK)):
            if prefilter is not None and prefilter not in line.lower() and line_id(line) not in edits:
                continue
            yield Found(orjson.loads(line), CONSOLIDATED)
    async for row in _pending_rows(deps, leaderboard_id):
        yield Found(row, PENDING)


async def _pending_rows(deps: Deps, leaderboard_id: str) -> AsyncIterator[dict[str, Any]]:
    """Rows of pending batches, oldest push first, with the ids consolidation will give them."""
    store = PushBatches(deps.documents)
    offset = 0
    while True:
        page = await deps.documents.query(store.pending(leaderboard_id, limit=PENDING_PAGE, offset=offset))
        for doc in page:
            batch = store.load(doc)
            for index, row in enumerate(batch.rows):
                yield stored_row(row, batch.id, index)
        if len(page) < PENDING_PAGE:
            return
        offset += len(page)
