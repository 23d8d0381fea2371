"""Ranking candidates from per-row scores: means, paired bootstrap intervals, ties, Pareto front.

Every candidate is scored on the same rows, so comparisons are paired: the bootstrap
resamples rows (seeded, so a ranking is reproducible) and recomputes every candidate's
mean on the same resample. A candidate is tied with the leader when the 95% interval of
(leader - candidate) over the resamples includes zero. A row a candidate failed counts
as score 0 for it; rows no candidate could be scored on (e.g. exact match without an
expected answer) are left out.

Ranking is the last step of a run, so its time adds to every run's: the bootstrap does its
per-row work in C (random bytes, itemgetter, sum) instead of a Python loop per row."""

from __future__ import annotations

import random
import sys
from array import array
from collections.abc import Callable
from dataclasses import dataclass, field
from operator import itemgetter
from statistics import fmean

BOOTSTRAP_SAMPLES = 1000
SEED = 20240611
CONFIDENCE = 0.95


@dataclass
class CandidateRows:
    """One candidate's results, keyed by row id."""

    candidate_id: str
    scores: dict[str, float | None] = field(default_factory=dict)  # None = not scored (failed or pending)
    failed: set[str] = field(default_factory=set)
    latencies_ms: list[float] = field(default_factory=list)
    tokens: int = 0
    cost_usd: float = 0.0
    cost_known: bool = False


def quantile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _interval(values: list[float]) -> tuple[float, float] | None:
    tail = (1 - CONFIDENCE) / 2
    low, high = quantile(values, tail), quantile(values, 1 - tail)
    return (low, high) if low is not None and high is not None else None


def rank(candidates: list[CandidateRows], pass_threshold: float = 0.5) -> list[dict]:
    """Ranked entries, best first, with statistics, ties with the leader and the Pareto front."""
    rows = sorted({row for c in candidates for row, score in c.scores.items() if score is not None}
                  | {row for c in candidates for row in c.failed})
    matrix = {c.candidate_id: [_score(c, row) for row in rows] for c in candidates}
    means = {cid: fmean(values) if values else None for cid, values in matrix.items()}
    resampled = _bootstrap(matrix, len(rows))
    order = sorted(candidates, key=lambda c: (-(means[c.candidate_id] or 0.0), c.candidate_id))
    leader = order[0].candidate_id if order and rows else None
    entries = []
    for position, c in enumerate(order, start=1):
        cid = c.candidate_id
        scored = [s for s in c.scores.values() if s is not None]
        ci = _interval(resampled[cid]) if rows else None
        tied = cid == leader or (leader is not None and _tied(resampled[leader], resampled[cid]))
        count = len(c.scores) or 1
        entries.append({
            "rank": position, "candidate_id": cid, "mean_score": means[cid],
            "ci95": list(ci) if ci else None, "pass_rate": (sum(s >= pass_threshold for s in scored) / len(scored))
            if scored else None,
            "rows_scored": len(scored), "failures": len(c.failed), "tied_with_leader": tied,
            "latency_ms_p50": quantile(c.latencies_ms, 0.5), "latency_ms_p95": quantile(c.latencies_ms, 0.95),
            "tokens_total": c.tokens, "tokens_per_row": c.tokens / count,
            "cost_usd_total": c.cost_usd if c.cost_known else None,
            "cost_usd_per_row": c.cost_usd / count if c.cost_known else None,
        })
    _mark_pareto(entries)
    return entries


def _score(c: CandidateRows, row: str) -> float:
    if row in c.failed:
        return 0.0
    score = c.scores.get(row)
    return 0.0 if score is None else score


def _bootstrap(matrix: dict[str, list[float]], n: int) -> dict[str, list[float]]:
    rng = random.Random(SEED)
    means: dict[str, list[float]] = {cid: [] for cid in matrix}
    if n == 0:
        return means
    for _ in range(BOOTSTRAP_SAMPLES):
        pick = _resample(rng, n)
        for cid, values in matrix.items():
            means[cid].append(sum(pick(values)) / n)
    return means


def _resample(rng: random.Random, n: int) -> Callable[[list[float]], tuple[float, ...]]:
    """Picks n of n rows drawn uniformly with replacement, the same rows from any candidate's scores.

    Each draw is a random word modulo n, so a row's chance is off by under n / 2**32 of itself
    (32-bit words, below 65,536 rows) or n / 2**64: far below what 1,000 resamples resolve.
    Words are read little-endian on every platform, so a seed gives the same ranking anywhere.
    """
    words = array("I" if n < 1 << 16 else "Q")
    words.frombytes(rng.randbytes(words.itemsize * n))
    if sys.byteorder == "big":
        words.byteswap()
    if n == 1:
        return lambda values: (values[0],)
    return itemgetter(*map(n.__rmod__, words))


def _tied(leader: list[float], other: list[float]) -> bool:
    interval = _interval([a - b for a, b in zip(leader, other, strict=True)])
    return interval is not None and interval[0] <= 0.0


def _mark_pareto(entries: list[dict]) -> None:
    """On the front: no other candidate is at least as good on quality, latency and cost and better on one."""
    def axes(e: dict) -> tuple[float, float, float]:
        return (-(e["mean_score"] or 0.0), e["latency_ms_p50"] if e["latency_ms_p50"] is not None else float("inf"),
                e["cost_usd_per_row"] if e["cost_usd_per_row"] is not None else 0.0)

    for entry in entries:
        mine = axes(entry)
        entry["pareto_front"] = not any(
            all(o <= m for o, m in zip(axes(other), mine)) and axes(other) != mine
            for other in entries if other is not entry)
