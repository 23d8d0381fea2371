"""Choosing candidate models from the OpenRouter catalog: filters, then a documented prior.

Filters, in order (a model is counted under the first one it fails): already a candidate,
no text output, variable pricing (such as routers), not open weights when only open source
is asked (open weights = the entry names a Hugging Face repository), over the price limit,
over the latency limit. Latency is what this workspace's own calls measured; a model with
no measured calls passes the latency filter and says so, because a new workspace has no
traces and would otherwise get nothing.

The prior ranks the models left, each factor a percentile among them (0 to 1):
`0.4 recency + 0.3 price tier + 0.2 context length + 0.1 latency evidence`. Newer models
and higher price tiers tend to be more capable, longer context serves more prompts, and a
model measured within the limits beats an unmeasured one (1 vs 0.5). Picks then spread
over vendors: one per vendor (the id's prefix) before any vendor gets a second.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

WEIGHTS = {"recency": 0.4, "price_tier": 0.3, "context": 0.2, "latency": 0.1}


@dataclass(frozen=True)
class Constraints:
    number_of_models: int = 3
    limit_cost: bool = False
    input_price_per_m_tokens: float | None = None
    output_price_per_m_tokens: float | None = None
    limit_latency: bool = False
    latency_p95_seconds: float | None = None
    latency_p99_seconds: float | None = None
    only_open_source: bool = False


@dataclass(frozen=True)
class Latency:
    p95_seconds: float
    p99_seconds: float
    samples: int


@dataclass
class Pick:
    entry: dict[str, Any]
    input_per_m: float
    output_per_m: float
    latency: Latency | None
    score: float = 0.0
    reasons: list[str] = field(default_factory=list)

    @property
    def model_id(self) -> str:
        return self.entry["id"]

    @property
    def open_source(self) -> bool:
        return bool(self.entry.get("hugging_face_id"))


def _per_million(price: Any) -> float | None:
    try:
        value = float(price)
    except (TypeError, ValueError):
        return None
    return round(value * 1_000_000, 6) if value >= 0 else None


def _speaks_text(entry: dict[str, Any]) -> bool:
    arch = entry.get("architecture") or {}
    outputs = arch.get("output_modalities")
    if isinstance(outputs, list):
        return "text" in outputs
    modality = arch.get("modality")
    return not isinstance(modality, str) or modality.endswith("->text")


def _rejection(pick: Pick, c: Constraints) -> str | None:
    if c.only_open_source and not pick.open_source:
        return "not_open_source"
    if c.limit_cost and (
        (c.input_price_per_m_tokens is not None and pick.input_per_m > c.input_price_per_m_tokens)
        or (c.output_price_per_m_tokens is not None and pick.output_per_m > c.output_price_per_m_tokens)
    ):
        return "price"
    if c.limit_latency and pick.latency is not None and not _latency_ok(pick.latency, c):
        return "latency"
    return None


def _latency_ok(latency: Latency, c: Constraints) -> bool:
    return ((c.latency_p95_seconds is None or latency.p95_seconds <= c.latency_p95_seconds)
            and (c.latency_p99_seconds is None or latency.p99_seconds <= c.latency_p99_seconds))


def _percentiles(values: list[float]) -> list[float]:
    """Each value's share of the others that it beats (ties count half); 1.0 when alone."""
    if len(values) == 1:
        return [1.0]
    return [(sum(o < v for o in values) + 0.5 * (sum(o == v for o in values) - 1)) / (len(values) - 1)
            for v in values]


def eligible(catalog: dict[str, dict[str, Any]], c: Constraints, latencies: dict[str, Latency],
             exclude: set[str]) -> tuple[list[Pick], Counter[str]]:
    """The models that pass every filter, and how many each filter ruled out."""
    excluded: Counter[str] = Counter()
    kept = []
    for model_id, entry in catalog.items():
        pricing = entry.get("pricing") or {}
        prices = _per_million(pricing.get("prompt")), _per_million(pricing.get("completion"))
        if model_id in exclude:
            excluded["already_candidate"] += 1
        elif not _speaks_text(entry):
            excluded["no_text_output"] += 1
        elif None in prices:
            excluded["variable_pricing"] += 1
        else:
            pick = Pick(entry, prices[0], prices[1], latencies.get(model_id))  # type: ignore[arg-type]
            reason = _rejection(pick, c)
            if reason:
                excluded[reason] += 1
            else:
                kept.append(pick)
    return kept, excluded


def rank(picks: list[Pick], c: Constraints) -> list[Pick]:
    """Score by the prior, explain each factor, and order with vendors spread out."""
    if not picks:
        return []
    recency = _percentiles([float(p.entry.get("created") or 0) for p in picks])
    tier = _percentiles([math.log1p(p.output_per_m) for p in picks])
    context = _percentiles([float(p.entry.get("context_length") or 0) for p in picks])
    for i, pick in enumerate(picks):
        evidence = 1.0 if pick.latency is not None else 0.5
        pick.score = round(WEIGHTS["recency"] * recency[i] + WEIGHTS["price_tier"] * tier[i]
                           + WEIGHTS["context"] * context[i] + WEIGHTS["latency"] * evidence, 4)
        pick.reasons = _reasons(pick, c, recency[i], tier[i], context[i])
    ordered = sorted(picks, key=lambda p: (-p.score, p.model_id))
    first, rest, vendors = [], [], set()
    for pick in ordered:
        vendor = pick.model_id.split("/", 1)[0]
        (rest if vendor in vendors else first).append(pick)
        vendors.add(vendor)
    return first + rest


def _reasons(pick: Pick, c: Constraints, recency: float, tier: float, context: float) -> list[str]:
    created = pick.entry.get("created")
    released = datetime.fromtimestamp(created, UTC).date().isoformat() if isinstance(created, int | float) else "unknown"
    reasons = [
        f"released {released}: newer than {recency:.0%} of the eligible models",
        f"${pick.input_per_m:g}/M input, ${pick.output_per_m:g}/M output: a higher price tier than {tier:.0%}",
        f"context {pick.entry.get('context_length') or 'unknown'} tokens: longer than {context:.0%}",
    ]
    if c.limit_cost:
        reasons.append("within the price limits")
    if pick.latency is not None:
        reasons.append(f"p95 {pick.latency.p95_seconds:g} s, p99 {pick.latency.p99_seconds:g} s "
                       f"over {pick.latency.samples} of this workspace's calls")
    elif c.limit_latency:
        reasons.append("latency not measured yet (no calls through this workspace): kept, unverified")
    if pick.open_source:
        reasons.append(f"open weights ({pick.entry['hugging_face_id']})")
    return reasons


EXCLUSION_TEXT = {
    "already_candidate": "already candidates", "no_text_output": "without text output",
    "variable_pricing": "with variable pricing", "not_open_source": "not open source",
    "price": "over the price limit", "latency": "over the latency limit",
}


def why_empty(considered: int, excluded: Counter[str]) -> str:
    if not considered:
        return "The OpenRouter catalog listed no models."
    parts = [f"{count} {EXCLUSION_TEXT[key]}" for key, count in excluded.most_common()]
    return f"No model of {considered} satisfies the constraints: {', '.join(parts)}."

