"""Online evaluation: the leaderboard setting that scores sampled production traces, and the quality series.

`online_eval` is stored on the leaderboard as validated here (snake_case whichever spelling
was sent). `sample_rate` is the share of matching traces scored, decided by a hash of the
trace id and `seed` (see shared/domain/online_eval.py), so the same traces are picked on
every instance and in every replay.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic.alias_generators import to_camel

from shared.schemas.common import ApiOutput, normalizer

TRACE_STATUSES = ("ok", "error", "client_disconnected")
JUDGE_PROVIDERS = ("OpenRouter", "HuggingFace", "Custom")
MetadataValue = str | int | float | bool
JudgeProvider = Annotated[Literal["OpenRouter", "HuggingFace", "Custom"], BeforeValidator(normalizer(JUDGE_PROVIDERS))]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", alias_generator=to_camel, populate_by_name=True)


class OnlineJudge(_Strict):
    """Which judge scores traces that carry no expected answer; unset parts fall back to the leaderboard's judge."""

    provider: JudgeProvider | None = None
    model: str | None = Field(None, min_length=1, max_length=200)
    url: str | None = Field(None, min_length=1, max_length=2_000, description="A Custom judge's base URL.")

    def eval_metadata(self, board_eval_metadata: dict[str, Any]) -> dict[str, Any]:
        """The judge settings the run scorer reads: this judge's parts over the leaderboard's."""
        merged = dict(board_eval_metadata)
        for mine, theirs in (("provider", "judge_provider"), ("model", "judge_model"), ("url", "judge_url")):
            if getattr(self, mine) is not None:
                merged[theirs] = getattr(self, mine)
        return merged


class OnlineConditions(_Strict):
    """A trace is sampled only when it matches every condition given."""

    metadata: dict[Annotated[str, Field(min_length=1, max_length=100)], MetadataValue] = Field(
        default_factory=dict, max_length=20,
        description="Each key must be in the trace's metadata with exactly this value.")
    models: list[Annotated[str, Field(min_length=1, max_length=100)]] | None = Field(
        None, min_length=1, max_length=50, description="Candidate ids: only traces answered by one of them.")
    status: list[Literal["ok", "error", "client_disconnected"]] = Field(
        default_factory=lambda: ["ok"], min_length=1,
        description="Trace statuses to score; a trace without an answer scores 0.")


class OnlineEval(_Strict):
    enabled: bool = True
    sample_rate: float = Field(ge=0, le=1, description="Share of matching traces scored, 0 to 1.")
    seed: int = Field(0, ge=0, le=2**31 - 1, description="Changes which traces the sampler picks, not how many.")
    judge: OnlineJudge | None = None
    conditions: OnlineConditions = Field(default_factory=OnlineConditions)


class QualityQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")
    days: int = Field(7, ge=1, le=90, description="How many UTC days, today included.")
    model: str | None = Field(None, max_length=100, description="Only this candidate (leaderboard model) id.")


class QualityPoint(ApiOutput):
    day: str = Field(description="UTC day, YYYY-MM-DD.")
    count: int
    mean: float
    ci95: list[float] | None = Field(description="95% interval of the mean: bootstrap up to 2,000 samples a day, "
                                                 "a normal approximation beyond.")


class QualitySeries(ApiOutput):
    candidate_id: str
    name: str | None
    chosen: bool = Field(description="Whether it is the chosen model now.")
    baseline: float | None = Field(description="Its mean score in the latest ranking.")
    points: list[QualityPoint]


class Quality(ApiOutput):
    leaderboard_id: str
    since: str = Field(description="First day of the series (UTC).")
    until: str = Field(description="Last day of the series (UTC), today.")
    series: list[QualitySeries]
