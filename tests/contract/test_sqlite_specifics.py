"""What the embedded document store does beyond the port's contract: its own indexes and checkpoints."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from shared.adapters.sqlite import CHECKPOINT_EVERY, SqliteDocuments
from shared.ports import Order, Query


async def test_checkpoints_run_off_the_request_path_and_keep_the_log_short(tmp_path: Path):
    path = tmp_path / "docs.sqlite3"
    store = SqliteDocuments(path)
    empty_file = path.stat().st_size
    for n in range(CHECKPOINT_EVERY * 2):
        await store.set("rows", f"r{n}", {"n": n, "text": "x" * 200})
    assert store._checkpoint is not None
    await store._checkpoint  # the background checkpoint copies the log into the database file
    assert path.stat().st_size > empty_file + CHECKPOINT_EVERY * 200
    assert len(await store.query(Query("rows"))) == CHECKPOINT_EVERY * 2
    store.close()


async def test_each_query_shape_gets_a_partial_index_that_the_query_uses(tmp_path: Path):
    path = tmp_path / "docs.sqlite3"
    store = SqliteDocuments(path)
    for n in range(50):
        await store.set("tokens", f"t{n}", {"token_hash": f"h{n}", "workspace_id": "w", "created_at": str(n)})
        await store.set("other", f"o{n}", {"token_hash": f"h{n}"})
    found = await store.query(Query("tokens", where={"token_hash": "h7"}))
    assert [doc.id for doc in found] == ["t7"]
    listed = await store.query(Query("tokens", where={"workspace_id": "w"}, order_by=(Order("created_at"),), limit=3))
    assert [doc.id for doc in listed] == ["t0", "t1", "t10"]
    with sqlite3.connect(path) as db:
        indexes = {name: sql for name, sql in db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index'")
                   if name.startswith("shape_")}
        assert set(indexes) == {"shape_tokens__token_hash", "shape_tokens__workspace_id__created_at"}
        assert all("WHERE collection = 'tokens'" in sql for sql in indexes.values())
        plan = " ".join(row[-1] for row in db.execute(
            "EXPLAIN QUERY PLAN SELECT id FROM documents WHERE collection = 'tokens' "
            "AND json_extract(data, '$.token_hash') = 'h7'"))
        assert "USING INDEX shape_tokens__token_hash" in plan
    store.close()
