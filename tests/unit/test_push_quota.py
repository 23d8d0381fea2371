"""The sharded push quota grants exactly what the daily and monthly limits leave, whatever the shards hold."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from shared.adapters.sqlite import SqliteDocuments
from shared.services import push_quota
from shared.services.push_quota import Limits

PUSHES = st.lists(st.tuples(st.booleans(), st.integers(1, 40)), min_size=1, max_size=25)


@settings(max_examples=60, deadline=None)
@given(daily=st.integers(1, 60), monthly=st.integers(1, 150), pushes=PUSHES)
def test_each_push_gets_exactly_what_the_day_and_the_month_leave(daily, monthly, pushes):
    asyncio.run(_check(daily, monthly, pushes))


async def _check(daily: int, monthly: int, pushes: list[tuple[bool, int]]) -> None:
    with tempfile.TemporaryDirectory() as home:
        store = SqliteDocuments(Path(home) / "docs.sqlite3")
        day, used_today, used_month = 1, 0, 0
        for next_day, size in pushes:
            if next_day:
                day, used_today = day + 1, 0
            now = {"day": f"2026-03-{day:02d}", "month": "2026-03"}
            granted = await store.run_transaction(
                lambda tx, size=size, now=now: push_quota.take(tx, "w", "b", size, Limits(daily, monthly), now))
            assert granted == min(size, daily - used_today, monthly - used_month)
            used_today, used_month = used_today + granted, used_month + granted
        shards = [doc.data for doc in await store.query(push_quota._shards("b"))]
        assert sum(shard["accepted_total"] for shard in shards) == used_month
        store.close()
