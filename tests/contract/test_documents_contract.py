"""The Documents port contract, the same for SQLite and Firestore."""

from __future__ import annotations

import asyncio

import pytest

from shared.ports import AlreadyExists, NotFound, Order, PreconditionFailed, Query, Range


async def test_create_is_create_only(documents):
    created = await documents.create("things", "a", {"n": 1})
    assert created.data == {"n": 1}
    with pytest.raises(AlreadyExists):
        await documents.create("things", "a", {"n": 2})
    assert (await documents.get("things", "a")).data == {"n": 1}


async def test_get_of_a_missing_document_is_none(documents):
    assert await documents.get("things", "missing") is None


async def test_set_replaces_the_whole_document(documents):
    await documents.set("things", "a", {"n": 1, "old": True})
    await documents.set("things", "a", {"n": 2})
    assert (await documents.get("things", "a")).data == {"n": 2}


async def test_update_merges_top_level_fields_and_replaces_nested_ones(documents):
    await documents.create("things", "a", {"n": 1, "nested": {"x": 1, "y": 2}, "keep": "me"})
    updated = await documents.update("things", "a", {"n": 2, "nested": {"x": 9}})
    assert updated.data == {"n": 2, "nested": {"x": 9}, "keep": "me"}
    assert (await documents.get("things", "a")).data == updated.data


async def test_update_honours_the_version_precondition(documents):
    first = await documents.create("things", "a", {"n": 1})
    second = await documents.update("things", "a", {"n": 2}, if_version=first.version)
    assert second.version != first.version
    with pytest.raises(PreconditionFailed):
        await documents.update("things", "a", {"n": 3}, if_version=first.version)
    assert (await documents.get("things", "a")).data["n"] == 2


async def test_update_of_a_missing_document_is_not_found(documents):
    with pytest.raises(NotFound):
        await documents.update("things", "missing", {"n": 1})


async def test_delete_reports_whether_something_was_there(documents):
    await documents.create("things", "a", {})
    assert await documents.delete("things", "a") is True
    assert await documents.delete("things", "a") is False
    assert await documents.get("things", "a") is None


async def test_query_filters_orders_pages_and_counts(documents):
    for n in range(7):
        await documents.create("rows", f"r{n}", {"team": "a" if n % 2 else "b", "n": n, "ok": True})
    await documents.create("other", "x", {"team": "a", "n": 100, "ok": True})
    query = Query("rows", where={"team": "a", "ok": True}, order_by=(Order("n", descending=True),),
                  limit=2, offset=1)
    assert [d.data["n"] for d in await documents.query(query)] == [3, 1]
    assert await documents.count(query) == 3
    ascending = Query("rows", where={"team": "b"}, order_by=(Order("n"),))
    assert [d.id for d in await documents.query(ascending)] == ["r0", "r2", "r4", "r6"]


async def test_query_matches_strings_numbers_and_null(documents):
    await documents.create("rows", "s", {"v": "1", "gone": None})
    await documents.create("rows", "i", {"v": 1, "gone": "no"})
    assert [d.id for d in await documents.query(Query("rows", where={"v": 1}))] == ["i"]
    assert [d.id for d in await documents.query(Query("rows", where={"v": "1"}))] == ["s"]
    assert [d.id for d in await documents.query(Query("rows", where={"gone": None}))] == ["s"]


async def test_transactions_make_read_modify_write_atomic(documents):
    await documents.create("counters", "c", {"value": 0})

    async def bump(tx):
        current = await tx.get("counters", "c")
        tx.set("counters", "c", {"value": current.data["value"] + 1})

    await asyncio.gather(*(documents.run_transaction(bump) for _ in range(10)))
    assert (await documents.get("counters", "c")).data["value"] == 10


async def test_a_failing_transaction_writes_nothing(documents):
    await documents.create("counters", "c", {"value": 0})

    async def half_done(tx):
        await tx.get("counters", "c")
        tx.set("counters", "c", {"value": 99})
        tx.create("counters", "d", {"value": 1})
        raise RuntimeError("changed my mind")

    with pytest.raises(RuntimeError):
        await documents.run_transaction(half_done)
    assert (await documents.get("counters", "c")).data["value"] == 0
    assert await documents.get("counters", "d") is None


async def test_transactional_create_refuses_an_existing_id(documents):
    await documents.create("things", "a", {"n": 1})

    async def recreate(tx):
        await tx.get("things", "a")
        tx.create("things", "a", {"n": 2})

    with pytest.raises(AlreadyExists):
        await documents.run_transaction(recreate)
    assert (await documents.get("things", "a")).data == {"n": 1}


async def test_ping_succeeds_on_a_live_store(documents):
    await documents.ping()


async def test_query_can_select_top_level_fields(documents):
    await documents.create("batches", "b1", {"board": "x", "count": 3, "ok": True, "rows": [{"a": 1}],
                                             "meta": {"k": [1, 2]}})
    [doc] = await documents.query(Query("batches", where={"board": "x"}, select=("count", "ok", "meta")))
    assert doc.id == "b1"
    assert doc.data == {"count": 3, "ok": True, "meta": {"k": [1, 2]}}


async def test_query_can_bound_one_field_to_a_range(documents):
    for n, stamp in enumerate(["2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z", "2026-01-03T00:00:00Z"]):
        await documents.create("traces", f"t{n}", {"board": "x", "at": stamp})
    window = Query("traces", where={"board": "x"}, order_by=(Order("at", descending=True),),
                   range=Range("at", low="2026-01-02T00:00:00Z", high="2026-01-03T00:00:00Z"))
    assert [d.id for d in await documents.query(window)] == ["t1"]
    assert await documents.count(window) == 1
    since = Query("traces", where={"board": "x"}, order_by=(Order("at"),), range=Range("at", low="2026-01-02"))
    assert [d.id for d in await documents.query(since)] == ["t1", "t2"]
