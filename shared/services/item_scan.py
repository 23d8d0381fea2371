"""Reading the rows of a PUSH dataset as items: the current version, its deleted rows, and pending pushes.

Items are read straight from the immutable files, with the pending edits applied on the
way out; nothing is indexed. Finding one item searches the file's bytes for the row's
opening `{"id":<id>,` (rows are written with the id first), at the speed of a byte
search rather than of parsing JSON; a list parses the rows it has to filter and stops as
soon as its page is full when the order is the dataset's own.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import orjson

from shared.domain.dataset_items import DatasetEdit, line_id
from shared.domain.push_dataset import PushDataset
from shared.ports import Deps
from shared.services.consolidation import STREAM_CHUNK, stored_row
from shared.stores.push_datasets import PushBatches

CONSOLIDATED, PENDING = "consolidated", "pending"
# A line's plain id, after the newline before it: the literal prefix lets the search skip ahead fast.
ID_AFTER_NEWLINE = re.compile(rb'\n\{"id":"([^"\\\n]*)"')
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
        found = _row_in(data, cut, needle, item_id)
        if found is not None:
            return found
        rest = data[cut:]
    return _row_in(rest, len(rest), needle, item_id)


def _row_in(data: bytes, stop: int, needle: bytes, item_id: str) -> dict[str, Any] | None:
    """The row with this id among the lines of data[:stop] (searched in place, not copied)."""
    at = data.find(needle, 0, stop)
    while at >= 0:
        start, end = data.rfind(b"\n", 0, at) + 1, data.find(b"\n", at, stop)
        end = stop if end < 0 else end
        row = orjson.loads(data[start:end])
        if row.get("id") == item_id:
            return row
        at = data.find(needle, end, stop)
    return None


async def every_row(deps: Deps, pointer: PushDataset | None, leaderboard_id: str,
                    edits: dict[str, DatasetEdit], prefilter: bytes | None) -> AsyncIterator[Found]:
    """Every row in dataset order (current rows, deleted rows, pending rows), parsed.

    `prefilter`, when given, skips without parsing the unedited lines whose lowercased
    bytes do not contain it (a search term that cannot be in them): whole blocks of lines
    are searched at once, and only the lines with a hit, or with an edit, are parsed.
    """
    edited = _plain_ids(edits)
    for key in _files(pointer):
        async for block in _blocks(deps.blobs.read_stream(key, chunk_size=STREAM_CHUNK)):
            for line in _worth_parsing(block, prefilter, edited, edits):
                yield Found(orjson.loads(line), CONSOLIDATED)
    async for row in _pending_rows(deps, leaderboard_id):
        yield Found(row, PENDING)


def _plain_ids(edits: dict[str, DatasetEdit]) -> set[bytes] | None:
    """The edited ids as they appear in the file, or None when one needs JSON escapes (lines are then read one by one)."""
    encoded = {orjson.dumps(item_id)[1:-1] for item_id in edits}
    return None if any(b"\\" in value for value in encoded) else encoded


async def _blocks(chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """The stream in blocks of whole lines, each ending in a newline."""
    rest = b""
    async for chunk in chunks:
        data = rest + chunk
        cut = data.rfind(b"\n") + 1
        if cut:
            yield data[:cut]
        rest = data[cut:]
    if rest:
        yield rest + b"\n"


def _worth_parsing(block: bytes, prefilter: bytes | None, edited: set[bytes] | None,
                   edits: dict[str, DatasetEdit]) -> list[bytes]:
    if prefilter is None:
        return block.splitlines()
    starts = set()
    if edits:
        # Each match starts at the newline before its line, which is where the line starts in `block`.
        ids = list(ID_AFTER_NEWLINE.finditer(b"\n" + block))
        if edited is None or len(ids) != block.count(b"\n"):  # a line without its id first: look at each line
            return [line for line in block.splitlines() if prefilter in line.lower() or line_id(line) in edits]
        starts.update(match.start() for match in ids if match.group(1) in edited)
    lowered = block.lower()
    at = lowered.find(prefilter)
    while at >= 0:
        starts.add(block.rfind(b"\n", 0, at) + 1)
        at = lowered.find(prefilter, block.find(b"\n", at))
    return [block[start:block.find(b"\n", start)] for start in sorted(starts)]


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
