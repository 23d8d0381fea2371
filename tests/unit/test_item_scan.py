"""Finding and scanning dataset items in raw JSONL: chunk boundaries, look-alike ids, key orders, escapes."""

from __future__ import annotations

import orjson
import pytest

from shared.domain.dataset_items import DatasetEdit
from shared.domain.push_dataset import PushDataset
from shared.ports import Deps
from shared.services import item_scan


async def _dataset(deps: Deps, rows: list[dict]) -> PushDataset:
    data = b"".join(orjson.dumps(row, option=orjson.OPT_APPEND_NEWLINE) for row in rows)
    await deps.blobs.put("datasets/b/v1.jsonl", data)
    return PushDataset(id="b", workspace_id="w", leaderboard_id="b", version=1, blob_key="datasets/b/v1.jsonl")


def _rows(count: int) -> list[dict]:
    return [{"id": f"row-{n}", "input": f"question {n}", "expected": f"answer {n}", "metadata": {}}
            for n in range(count)]


@pytest.fixture
def small_chunks(monkeypatch):
    """Chunks of 7 bytes, so every line and every id is split across chunks somewhere."""
    monkeypatch.setattr(item_scan, "STREAM_CHUNK", 7)


async def test_an_item_is_found_whatever_chunk_its_line_and_id_straddle(deps, small_chunks):
    pointer = await _dataset(deps, _rows(40))
    for n in (0, 1, 17, 39):
        found = await item_scan.find(deps, pointer, "b", f"row-{n}")
        assert found is not None and (found.row["input"], found.state) == (f"question {n}", "consolidated")
    assert await item_scan.find(deps, pointer, "b", "row-4") is not None
    assert await item_scan.find(deps, pointer, "b", "row-40") is None


async def test_a_nested_id_of_the_same_value_is_not_taken_for_the_row(deps, small_chunks):
    rows = [{"id": "a", "input": "x", "metadata": {"ticket": {"id": "b"}}}, {"id": "b", "input": "the real b"}]
    found = await item_scan.find(deps, await _dataset(deps, rows), "b", "b")
    assert found is not None and found.row["input"] == "the real b"


async def test_rows_written_with_their_keys_in_another_order_are_found_and_searched(deps):
    rows = [{"input": "first", "id": "k1", "expected": None}, {"expected": "second", "id": "k2", "input": "q"}]
    pointer = await _dataset(deps, rows)
    assert (await item_scan.find(deps, pointer, "b", "k2")).row["expected"] == "second"
    edit = DatasetEdit(id="e", workspace_id="w", leaderboard_id="b", item_id="k1", created_at="", updated_at="")
    seen = [found.row["id"] async for found in item_scan.every_row(deps, pointer, "b", {"k1": edit}, b"second")]
    assert seen == ["k1", "k2"]  # k1 for its edit, k2 for the search term


async def test_a_search_parses_only_the_lines_with_the_term_or_an_edit(deps):
    pointer = await _dataset(deps, _rows(1_000))
    edit = DatasetEdit(id="e", workspace_id="w", leaderboard_id="b", item_id="row-5", created_at="", updated_at="")
    seen = [found.row["id"] async for found in item_scan.every_row(deps, pointer, "b", {"row-5": edit}, b"answer 99")]
    assert seen == ["row-5", "row-99", *[f"row-{n}" for n in range(990, 1000)]]


async def test_ids_that_need_escapes_in_json_are_found_and_scanned(deps, small_chunks):
    odd = 'say "hi" \\ there'
    pointer = await _dataset(deps, [{"id": odd, "input": "quoted"}, {"id": "plain", "input": "other"}])
    assert (await item_scan.find(deps, pointer, "b", odd)).row["input"] == "quoted"
    edit = DatasetEdit(id="e", workspace_id="w", leaderboard_id="b", item_id=odd, created_at="", updated_at="")
    seen = [found.row["id"] async for found in item_scan.every_row(deps, pointer, "b", {odd: edit}, b"zzz")]
    assert seen == [odd]
