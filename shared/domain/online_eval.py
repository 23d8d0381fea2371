"""Which production traces online evaluation scores: conditions, then a deterministic sampler.

The sampler is exact and reproducible: a trace is sampled when the first 8 bytes of
SHA-256(f"{seed}:{trace_id}"), read as a big-endian unsigned integer, are below
floor(sample_rate * 2**64). Any instance, and any replay of the same traces, picks the same
ones; over many random trace ids the share converges to `sample_rate`, and for a given set
of ids the count is fixed by the definition alone.
"""

from __future__ import annotations

import hashlib
from typing import Any

from shared.domain.trace import Trace

HASH_SPACE = 2**64


def sampled(trace_id: str, seed: int, sample_rate: float) -> bool:
    digest = hashlib.sha256(f"{seed}:{trace_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") < int(sample_rate * HASH_SPACE)


def matches(conditions: dict[str, Any], trace: Trace) -> bool:
    """Whether the trace meets every condition: metadata equalities, answering model, status."""
    if trace.status not in conditions.get("status", ["ok"]):
        return False
    models = conditions.get("models")
    if models is not None and trace.candidate_id not in models:
        return False
    wanted = conditions.get("metadata") or {}
    return all(key in trace.metadata and _same(trace.metadata[key], value) for key, value in wanted.items())


def _same(got: Any, wanted: Any) -> bool:
    # JSON true is not 1: a boolean condition matches booleans only, and the other way round.
    return isinstance(got, bool) == isinstance(wanted, bool) and got == wanted


def selects(online_eval: dict[str, Any] | None, trace: Trace) -> bool:
    """Whether a leaderboard with this setting scores this trace."""
    if not online_eval or not online_eval.get("enabled", True):
        return False
    return matches(online_eval.get("conditions") or {}, trace) and \
        sampled(trace.id, int(online_eval.get("seed", 0)), float(online_eval["sample_rate"]))
