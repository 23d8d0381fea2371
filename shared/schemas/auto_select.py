"""Auto-select: constraints in, chosen OpenRouter candidates (with the reasons) out."""

from __future__ import annotations

from pydantic import Field

from shared.schemas.candidates import CandidatePublic
from shared.schemas.common import ApiInput, ApiOutput


class AutoSelectRequest(ApiInput):
    number_of_models: int = Field(3, ge=1, le=20)
    limit_cost: bool = False
    input_price_per_m_tokens: float | None = Field(None, ge=0, le=1_000_000)
    output_price_per_m_tokens: float | None = Field(None, ge=0, le=1_000_000)
    limit_latency: bool = False
    latency_p95_seconds: float | None = Field(None, gt=0, le=3_600)
    latency_p99_seconds: float | None = Field(None, gt=0, le=3_600)
    only_open_source: bool = False


class AutoSelected(ApiOutput):
    leaderboard_model: CandidatePublic = Field(description="The candidate added to the leaderboard.")
    model: str = Field(description="OpenRouter model id.")
    name: str
    input_price_per_m_tokens: float | None
    output_price_per_m_tokens: float | None
    context_length: int | None
    open_source: bool
    latency_p95_seconds: float | None
    latency_p99_seconds: float | None
    latency_source: str = Field(description="traces: measured on this workspace's own calls; unknown: none yet.")
    score: float = Field(description="The ranking prior, 0 to 1.")
    reasons: list[str]


class AutoSelectResult(ApiOutput):
    data: list[AutoSelected]
    count: int
    considered: int = Field(description="Catalog models looked at.")
    excluded: dict[str, int] = Field(description="How many models each constraint ruled out.")
    message: str
