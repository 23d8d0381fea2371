"""Run request and response models (seed: drgero-leaderboards-api, "Run a leaderboard")."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AliasChoices, BeforeValidator, Field

from shared.schemas.common import ApiInput, ApiOutput, PageQuery, normalizer

RunSource = Annotated[Literal["manual", "schedule", "api"], BeforeValidator(normalizer(("manual", "schedule", "api")))]


class RunCreate(ApiInput):
    model_ids: list[Annotated[str, Field(min_length=1, max_length=100)]] | None = Field(
        None, max_length=100, validation_alias=AliasChoices("model_ids", "modelIds"),
        description="Candidate (leaderboard model) ids to run; all candidates when absent.")
    run_source: RunSource = Field("api", validation_alias=AliasChoices("run_source", "runSource"))


class RankingEntry(ApiOutput):
    rank: int
    candidate_id: str
    mean_score: float | None
    ci95: list[float] | None = Field(description="95% paired-bootstrap interval of the mean score.")
    pass_rate: float | None
    rows_scored: int
    failures: int
    tied_with_leader: bool
    pareto_front: bool
    latency_ms_p50: float | None
    latency_ms_p95: float | None
    tokens_total: int
    tokens_per_row: float
    cost_usd_total: float | None
    cost_usd_per_row: float | None


class RunCandidate(ApiOutput):
    id: str
    name: str
    platform: str


class RunPublic(ApiOutput):
    id: str
    leaderboard_id: str
    status: str = Field(description="queued, running, awaiting_human, completed, failed or cancelled.")
    run_source: str
    trigger: str | None
    eval_type: str
    candidate_ids: list[str]
    candidates: list[RunCandidate]
    dataset: dict[str, Any] | None
    rows: int | None
    chunks: int | None
    created_at: str
    started_at: str | None
    finished_at: str | None
    error: str | None
    winner_id: str | None
    ranking: list[RankingEntry] | None
    improve: bool = Field(False, description="An improve-dataset run: its own labels, empty and repeated rows left out.")
    dataset_limit: dict[str, Any] | None = Field(None, description="The schedule's row limit a scheduled run applied.")


class CandidateProgress(ApiOutput):
    candidate_id: str
    rows_done: int
    rows_failed: int


class RunProgress(ApiOutput):
    rows_total: int
    rows_done: int
    percent: float
    candidates: list[CandidateProgress]


class RunDetail(RunPublic):
    progress: RunProgress


class AnnotationQuery(PageQuery):
    status: Literal["pending", "scored"] | None = Field(None, description="Only items in this state.")


class AnnotationCreate(ApiInput):
    score: float = Field(ge=0, le=1)
    comment: str | None = Field(None, max_length=5_000)


class AnnotationPublic(ApiOutput):
    id: str = Field(description="The item id to score.")
    run_id: str
    candidate_id: str
    row_id: str
    input: str
    expected: str | None
    output: str | None
    status: str
    score: float | None
    comment: str | None
    created_at: str
    scored_at: str | None


class LabelFailure(ApiOutput):
    row_id: str
    error: str | None


class AutoLabels(ApiOutput):
    leaderboard_id: str
    dataset: dict[str, Any]
    rows: int = Field(description="Rows of the dataset version that needed or have a label.")
    labels: int = Field(description="Labels in the label set now.")
    already_labeled: int
    labeled: int
    failed: int
    failures: list[LabelFailure]


class ImprovedRun(RunPublic):
    improvements: dict[str, Any] = Field(description="What consolidation and auto-labelling did first.")


class ReapedRun(ApiOutput):
    run_id: str
    action: Literal["requeued", "failed", "finished"] = Field(
        description="requeued: its prepare task was queued again; failed: it was never prepared; finished: "
                    "ranked with the rows of its dead chunks counted as failed.")


class ReapedRuns(ApiOutput):
    reaped: list[ReapedRun]
