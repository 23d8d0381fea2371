"""Dataset item edits over a million-row PUSH dataset: a batch of edits, then the consolidation that folds them.

The dataset is built the way pushes build it (pending batches, one consolidation). Then, in
a child process of its own (so its peak RSS is its own), EDITS item edits go through the
items service as a PATCH or DELETE would (each finds its row in the version file, checks
the version, stores its edit document), and in another child the consolidation folds them
all into one new version. Item reads are timed on the way: the first page of the list, a
search that has to read every row, and one item near the end of the file.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time

from bench.push import _board, _settings, peak_rss_mb
from shared.bootstrap import build
from shared.domain.push_dataset import PushBatch
from shared.services import dataset_items
from shared.services.consolidation import consolidate
from shared.services.dataset_items import ItemFilters
from shared.stores.push_datasets import PushBatches

ROWS = int(os.environ.get("BENCH_ITEM_ROWS", "1000000"))
EDITS, DELETE_EVERY, ROWS_PER_BATCH = 1_000, 10, 500


def _row(n: int) -> dict:
    return {"id": f"row-{n}", "input": f"How do I change setting number {n}?",
            "expected": f"Open settings and change {n}.", "metadata": {"source": "bench", "user_id": f"u{n % 97}"},
            "pushed_at": "2026-01-01T00:00:00.000000Z"}


async def _dataset(home: str) -> tuple[str, str]:
    """A consolidated dataset of ROWS rows; the leaderboard and workspace ids."""
    board, _ = await _board(home, dedupe=True, max_samples_to_gather=ROWS)
    deps = build(_settings(home))
    for start in range(0, ROWS, ROWS_PER_BATCH):
        rows = [_row(n) for n in range(start, min(start + ROWS_PER_BATCH, ROWS))]
        await PushBatches(deps.documents).create(PushBatch(
            id=deps.ids.new_id(), workspace_id=board.workspace_id, leaderboard_id=board.id,
            created_at=f"2026-01-01T00:00:00.{start:06d}Z", row_count=len(rows), rows=rows, response={}))
    await consolidate(deps, board)
    return board.id, board.workspace_id


def edits_child(home: str, board_id: str, workspace_id: str) -> None:
    """Run in a child process: EDITS edits through the items service, then item reads; prints JSON."""
    async def run() -> dict:
        deps = build(_settings(home))
        targets = random.Random(19).sample(range(ROWS), EDITS)
        took = []
        for count, n in enumerate(targets):
            started = time.perf_counter()
            if count % DELETE_EVERY == 0:
                await dataset_items.edit_item(deps, workspace_id, board_id, f"row-{n}",
                                              lambda edit, now, item: edit.delete(now) or True, None)
            else:
                values = {"expected": f"Settings, then number {n}.", "golden": count % 2 == 0}
                await dataset_items.edit_item(deps, workspace_id, board_id, f"row-{n}",
                                              lambda edit, now, item, v=values: edit.change(v, now) or True, None)
            took.append(time.perf_counter() - started)
        reads = {}
        for name, call in (
                ("first page", lambda: dataset_items.list_items(deps, workspace_id, board_id, ItemFilters(), 50, 0)),
                ("search, every row", lambda: dataset_items.list_items(
                    deps, workspace_id, board_id, ItemFilters(search="number 999999?"), 50, 0)),
                ("one item near the end", lambda: dataset_items.get_item(deps, workspace_id, board_id,
                                                                         f"row-{ROWS - 2}"))):
            started = time.perf_counter()
            await call()
            reads[name] = time.perf_counter() - started
        return {"seconds": sum(took), "p50_ms": statistics.median(took) * 1000,
                "p95_ms": statistics.quantiles(took, n=20)[-1] * 1000, "reads": reads}

    result = asyncio.run(run())
    result["peak_rss_mb"] = peak_rss_mb()
    print(json.dumps(result))


def _child(code: str) -> dict:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(done.stdout.splitlines()[-1])


async def run() -> str:
    with tempfile.TemporaryDirectory() as home:
        started = time.perf_counter()
        board_id, workspace_id = await _dataset(home)
        built = time.perf_counter() - started
        edited = _child(f"from bench.items import edits_child; edits_child({home!r}, {board_id!r}, {workspace_id!r})")
        folded = _child(f"from bench.push import consolidation_child; consolidation_child({home!r}, {board_id!r})")
    deletes = EDITS // DELETE_EVERY
    assert (folded["edited_rows"], folded["deleted_rows"], folded["rows"]) == (EDITS, deletes, ROWS - deletes), folded
    reads = ", ".join(f"{name} {seconds * 1000:,.0f} ms" for name, seconds in edited["reads"].items())
    return "\n".join([
        f"items: {ROWS:,}-row dataset built in {built:.1f} s",
        f"items: {EDITS:,} edits ({deletes} deletes): {edited['seconds']:.1f} s, p50 {edited['p50_ms']:.0f} ms, "
        f"p95 {edited['p95_ms']:.0f} ms per edit, peak RSS {edited['peak_rss_mb']:.0f} MB",
        f"items: reads with {EDITS:,} edits pending: {reads}",
        f"items: consolidation folding them into version {folded['version']}: {folded['seconds']:.1f} s, "
        f"{folded['rows']:,} rows + {folded['deleted_rows']} deleted, peak RSS {folded['peak_rss_mb']:.0f} MB",
    ])


if __name__ == "__main__":
    print(asyncio.run(run()))
