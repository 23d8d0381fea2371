"""Auto-select: read the OpenRouter catalog, filter and rank it, add the picks as candidates."""

from __future__ import annotations

from typing import Any

from shared.domain.model_selection import Constraints, Latency, eligible, rank, why_empty
from shared.domain.ranking import quantile
from shared.errors import EntitlementRequired
from shared.ports import Deps, Order, Query
from shared.schemas.auto_select import AutoSelectRequest
from shared.schemas.candidates import CandidateCreate
from shared.services import candidates
from shared.services.catalog import openrouter_catalog
from shared.services.workspaces import FREE_MAX_CANDIDATES
from shared.stores.leaderboards import Candidates
from shared.stores.traces import Traces

# Latency evidence: the newest successful, first-try calls of each OpenRouter model this
# workspace has routed, over at most this many of its candidates.
TRACES_PER_CANDIDATE = 200
CANDIDATES_MEASURED = 100


async def measured_latencies(deps: Deps, workspace_id: str) -> dict[str, Latency]:
    """OpenRouter model id -> p95/p99 seconds over this workspace's own inference traces."""
    found = await Candidates(deps.documents).find({"workspace_id": workspace_id, "platform": "OpenRouter"},
                                                  order=(), limit=CANDIDATES_MEASURED)
    seconds: dict[str, list[float]] = {}
    for candidate in found:
        traces = await deps.documents.query(Query(
            Traces.collection, where={"workspace_id": workspace_id, "candidate_id": candidate.id, "status": "ok",
                                      "fallback": False},
            order_by=(Order("created_at", descending=True),), limit=TRACES_PER_CANDIDATE, select=("latency_ms",)))
        seconds.setdefault(candidate.model_url or "", []).extend(
            t.data["latency_ms"] / 1000 for t in traces if t.data.get("latency_ms") is not None)
    return {model: Latency(round(quantile(values, 0.95) or 0, 3), round(quantile(values, 0.99) or 0, 3), len(values))
            for model, values in seconds.items() if values}


async def auto_select(deps: Deps, workspace_id: str, leaderboard_id: str, body: AutoSelectRequest) -> dict[str, Any]:
    existing = await candidates.list_candidates(deps, workspace_id, leaderboard_id)  # 404 for unknown boards
    catalog = await openrouter_catalog(deps)
    constraints = Constraints(**body.model_dump())
    taken = {c.model_url for c in existing if c.platform == "OpenRouter"}
    kept, excluded = eligible(catalog, constraints, await measured_latencies(deps, workspace_id), taken)
    ranked = rank(kept, constraints)
    chosen, plan_note = [], ""
    for pick in ranked[:body.number_of_models]:
        body_in = CandidateCreate(name=str(pick.entry.get("name") or pick.model_id)[:200], platform="OpenRouter",
                                  model_url=pick.model_id)
        try:
            added = await candidates.add_candidate(deps, workspace_id, leaderboard_id, body_in)
        except EntitlementRequired:  # the plan's candidate limit, as adding by hand enforces it
            plan_note = (f" The free plan allows {FREE_MAX_CANDIDATES} candidates per leaderboard, "
                         f"so {len(chosen)} of the {body.number_of_models} asked for were added.")
            break
        chosen.append({
            "leaderboard_model": added, "model": pick.model_id, "name": body_in.name,
            "input_price_per_m_tokens": pick.input_per_m, "output_price_per_m_tokens": pick.output_per_m,
            "context_length": pick.entry.get("context_length"), "open_source": pick.open_source,
            "latency_p95_seconds": pick.latency.p95_seconds if pick.latency else None,
            "latency_p99_seconds": pick.latency.p99_seconds if pick.latency else None,
            "latency_source": "traces" if pick.latency else "unknown", "score": pick.score, "reasons": pick.reasons,
        })
    if chosen:
        message = f"Added {len(chosen)} of {len(ranked)} eligible models.{plan_note}"
    elif ranked:
        message = f"{len(ranked)} models are eligible but none was added.{plan_note}"
    else:
        message = why_empty(len(catalog), excluded)
    return {"data": chosen, "count": len(chosen), "considered": len(catalog), "excluded": dict(excluded),
            "message": message}
