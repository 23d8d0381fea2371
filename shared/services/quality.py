"""Live quality per answering model: scores recorded on traces, summed in small per-day and per-hour shards.

Recording a score is one transaction: it reads the trace (a trace already scored or
skipped is left alone, which makes a redelivered scoring task a no-op), one day shard and
one hour shard, and writes all three. Shards are picked at random among SHARDS per model
and period, like the spend counters, so concurrent scoring tasks rarely meet on a document.

- Day shards (`quality_days`) hold the count, the exact sum and a histogram of scores in
  steps of 0.01; they serve the daily series: a read is one range query of at most
  days x models x SHARDS small documents, whatever the traffic.
- Hour shards (`quality_hours`) hold the count and sum; they serve the quality_drop
  trigger's window (window_hours x SHARDS documents).

Days and hours are those of the trace's `created_at` (when the traffic was served), UTC; a
score counts for the candidate that answered, or for the first one tried when none did.
The mean is exact (sum / count); the 95% interval is the ranking's seeded bootstrap over
the histogram's values up to BOOTSTRAP_MAX scores a day, a normal approximation beyond
(where the two agree to well under 0.01).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from datetime import datetime, timedelta

from shared.domain.leaderboard import Leaderboard
from shared.domain.ranking import CandidateRows, rank
from shared.domain.times import parse_iso
from shared.domain.trace import Trace
from shared.ports import Data, Deps, Query, Range, Transaction
from shared.stores.leaderboards import Candidates
from shared.stores.traces import Traces

DAYS = "quality_days"
HOURS = "quality_hours"
SHARDS = 4
BOOTSTRAP_MAX = 2_000
FINAL = ("scored", "skipped", "failed")


def day_of(stamp: str) -> str:
    return stamp[:10]


def hour_of(stamp: str) -> str:
    return stamp[:13]  # YYYY-MM-DDTHH


def _bucket(score: float) -> str:
    return str(round(score * 100))


async def record(deps: Deps, trace_id: str, verdict: Data) -> Trace | None:
    """Store the verdict on the trace and, when scored, add it to the shards; None if it was already there."""
    traces = Traces(deps.documents)
    shard = random.randrange(SHARDS)

    async def apply(tx: Transaction) -> Trace | None:
        doc = await tx.get(traces.collection, trace_id)
        if doc is None:
            return None
        trace = traces.load(doc)
        if (trace.online_eval or {}).get("status") in FINAL:
            return None  # a redelivered task: the first delivery recorded it
        trace.online_eval = verdict
        writes: list[Callable[[], None]] = []
        model = trace.judged_model
        if verdict["status"] == "scored" and model:
            base = {"workspace_id": trace.workspace_id, "leaderboard_id": trace.leaderboard_id,
                    "candidate_id": model}
            score = float(verdict["score"])
            for collection, key, period in ((DAYS, "day", day_of(trace.created_at)),
                                            (HOURS, "hour", hour_of(trace.created_at))):
                shard_id = f"{trace.leaderboard_id}.{model}.{period}.{shard}"
                found = await tx.get(collection, shard_id)
                data = dict(found.data) if found else {**base, key: period, "count": 0, "sum": 0.0}
                data["count"] += 1
                data["sum"] += score
                if collection == DAYS:
                    buckets = dict(data.get("buckets") or {})
                    buckets[_bucket(score)] = buckets.get(_bucket(score), 0) + 1
                    data["buckets"] = buckets
                writes.append(_setter(tx, collection, shard_id, data))
        tx.set(traces.collection, trace_id, trace.stored())
        for write in writes:
            write()
        return trace

    return await deps.documents.run_transaction(apply)


def _setter(tx: Transaction, collection: str, doc_id: str, data: Data) -> Callable[[], None]:
    return lambda: tx.set(collection, doc_id, data)


async def window(deps: Deps, leaderboard_id: str, candidate_id: str, since_hour: str) -> tuple[int, float | None]:
    """(count, mean) of the model's scores from `since_hour` (YYYY-MM-DDTHH, inclusive) on."""
    docs = await deps.documents.query(Query(HOURS, where={"leaderboard_id": leaderboard_id,
                                                          "candidate_id": candidate_id},
                                            range=Range("hour", since_hour)))
    count = sum(doc.data["count"] for doc in docs)
    return count, (sum(doc.data["sum"] for doc in docs) / count if count else None)


async def series(deps: Deps, board: Leaderboard, days: int, model: str | None) -> Data:
    """The daily series per answering model, oldest day first, over `days` UTC days ending today."""
    today = deps.clock.now().date()
    first = (today - timedelta(days=days - 1)).isoformat()
    where = {"leaderboard_id": board.id, **({"candidate_id": model} if model else {})}
    docs = await deps.documents.query(Query(DAYS, where=where, range=Range("day", first)))
    merged: dict[str, dict[str, Data]] = {}
    for doc in docs:
        day = merged.setdefault(doc.data["candidate_id"], {}).setdefault(
            doc.data["day"], {"count": 0, "sum": 0.0, "buckets": {}})
        day["count"] += doc.data["count"]
        day["sum"] += doc.data["sum"]
        for bucket, n in (doc.data.get("buckets") or {}).items():
            day["buckets"][bucket] = day["buckets"].get(bucket, 0) + n
    names = {c.id: c.name for c in await Candidates(deps.documents).of(board)}
    baselines = {entry["candidate_id"]: entry.get("mean_score")
                 for entry in (board.latest_ranking or {}).get("ranking") or []}
    return {"leaderboard_id": board.id, "since": first, "until": today.isoformat(), "series": [
        {"candidate_id": cid, "name": names.get(cid), "chosen": cid == board.chosen_leaderboard_model_id,
         "baseline": baselines.get(cid),
         "points": [_point(day, totals) for day, totals in sorted(per_day.items())]}
        for cid, per_day in sorted(merged.items())]}


def _point(day: str, totals: Data) -> Data:
    return {"day": day, "count": totals["count"], "mean": totals["sum"] / totals["count"],
            "ci95": interval(totals["buckets"])}


def interval(buckets: dict[str, int]) -> list[float] | None:
    """The 95% interval of the mean of the scores a histogram holds (bucket = score x 100).

    The bootstrap resamples the scores in ascending order, so a day's interval does not
    depend on the order its shards were read in."""
    values = sorted((int(bucket) / 100, n) for bucket, n in buckets.items() if n > 0)
    count = sum(n for _, n in values)
    if count == 0:
        return None
    if count <= BOOTSTRAP_MAX:
        scores: dict[str, float | None] = {}
        for value, n in values:
            for _ in range(n):
                scores[str(len(scores))] = value
        [entry] = rank([CandidateRows("live", scores=scores)])
        return entry["ci95"]
    mean = sum(value * n for value, n in values) / count
    variance = sum(n * (value - mean) ** 2 for value, n in values) / (count - 1)
    half = 1.959964 * math.sqrt(variance / count)
    return [max(0.0, mean - half), min(1.0, mean + half)]


def since_hour(now_stamp: str, hours: int, after: str | None) -> str:
    """The first hour of a window of `hours` ending now, starting no earlier than the hour after `after`."""
    start = hour_of(_iso_hour(parse_iso(now_stamp) - timedelta(hours=hours - 1)))
    if after:
        start = max(start, _iso_hour(parse_iso(after) + timedelta(hours=1)))
    return start


def _iso_hour(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H")

