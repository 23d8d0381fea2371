"""The rows a run evaluates: a PUSH leaderboard's current version, or a Hugging Face JSONL file.

Both are read as streams and normalized with the push rules (same field aliases), so a
row of either kind has an id, an input and maybe an expected answer. Hugging Face files
come through the blob cache (see `huggingface`). A schedule's row limit keeps the last N
rows or N drawn at random.
"""

from __future__ import annotations

import json
import random
from collections import deque
from collections.abc import AsyncIterator
from typing import Any

from shared.domain.leaderboard import Leaderboard
from shared.domain.push_rows import Rejection, normalize
from shared.ports import Data, Deps
from shared.services.consolidation import lines, read_dataset
from shared.services.huggingface import CHUNK, fetch_huggingface
from shared.services.outbound import DatasetUnavailable


async def rows_from_jsonl(chunks: AsyncIterator[bytes], source: str) -> AsyncIterator[Data]:
    """Normalized rows of a JSONL stream; unparsable or rejected lines are skipped."""
    index = 0
    async for line in lines(chunks):
        if not line.strip():
            continue
        try:
            raw: Any = json.loads(line)
        except ValueError:
            index += 1
            continue
        row = normalize(raw, index, "")
        if not isinstance(row, Rejection):
            yield {"id": row["id"] or f"{source}-{index}", "input": row["input"], "expected": row["expected"]}
        index += 1


async def dataset_rows(deps: Deps, board: Leaderboard) -> tuple[AsyncIterator[Data], dict[str, Any]]:
    """The rows of a leaderboard's dataset and a description of what was read, for the run."""
    if board.is_push:
        pointer, chunks = await read_dataset(deps, board.id)
        if pointer is None or chunks is None:
            raise DatasetUnavailable("The PUSH dataset has no consolidated rows yet.")
        return rows_from_jsonl(chunks, "push"), {"type": "PUSH", "version": pointer.version}
    if not board.dataset_url:
        raise DatasetUnavailable("The leaderboard has no dataset URL.")
    key = await fetch_huggingface(deps, board.dataset_url)
    return (rows_from_jsonl(deps.blobs.read_stream(key, chunk_size=CHUNK), "row"),
            {"type": "GET", "url": board.dataset_url})


AUTO_LIMIT_ROWS = 1000


async def limited(rows: AsyncIterator[Data], limit: Data) -> AsyncIterator[Data]:
    """A scheduled run's dataset limit: the last N rows, or N drawn at random (seeded), in dataset order.

    `auto` means AUTO_LIMIT_ROWS rows. Only N rows are held in memory at once.
    """
    size = AUTO_LIMIT_ROWS if limit.get("auto") else limit["rows"]
    if limit.get("algorithm") == "RANDOM":
        rng, kept = random.Random(limit.get("seed") or 0), []
        async for index, row in _enumerate(rows):  # reservoir sampling keeps each row with equal chance
            if len(kept) < size:
                kept.append((index, row))
            elif (slot := rng.randrange(index + 1)) < size:
                kept[slot] = (index, row)
        for _, row in sorted(kept, key=lambda pair: pair[0]):
            yield row
        return
    last: deque[Data] = deque(maxlen=size)
    async for row in rows:
        last.append(row)
    for row in last:
        yield row


async def _enumerate(rows: AsyncIterator[Data]) -> AsyncIterator[tuple[int, Data]]:
    index = 0
    async for row in rows:
        yield index, row
        index += 1
