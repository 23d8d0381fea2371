"""Judge dry-run request and response models (POST /api/leaderboards/{id}/eval/test)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from shared.domain.push_rows import MAX_FIELD_CHARS
from shared.domain.scoring import DRY_RUN_MAX_ROWS as MAX_ROWS
from shared.schemas.common import ApiInput, ApiOutput
from shared.schemas.leaderboards import JudgeProvider


class JudgeTestRow(ApiInput):
    input: str = Field(min_length=1, max_length=MAX_FIELD_CHARS)
    output: str | None = Field(None, max_length=MAX_FIELD_CHARS,
                               description="The answer to grade; without it, candidate_id answers the row.")
    expected: str | None = Field(None, max_length=MAX_FIELD_CHARS, description="A reference answer, if any.")


class JudgeTestRequest(ApiInput):
    """A judge configuration (as on the leaderboard; what is left out is the leaderboard's) and the rows to score."""

    judge_provider: JudgeProvider | None = None
    judge_model: str | None = Field(None, min_length=1, max_length=200)
    judge_url: str | None = Field(None, min_length=1, max_length=2_000, description="For the Custom provider.")
    candidate_id: str | None = Field(None, max_length=64, description="A candidate of the leaderboard that answers "
                                                                      "the rows first, with the leaderboard's prompt.")
    item_ids: list[str] = Field(default_factory=list, max_length=MAX_ROWS,
                                description="Dataset items to score (PUSH leaderboards), pending edits applied.")
    rows: list[JudgeTestRow] = Field(default_factory=list, max_length=MAX_ROWS)

    @model_validator(mode="after")
    def _some_rows(self) -> JudgeTestRequest:
        if not self.item_ids and not self.rows:
            raise ValueError("send item_ids or rows to score")
        if len(self.item_ids) + len(self.rows) > MAX_ROWS:
            raise ValueError(f"a dry-run scores at most {MAX_ROWS} rows (item_ids and rows together)")
        return self


class JudgeTestResult(ApiOutput):
    item_id: str | None = Field(description="The dataset item scored, for rows named by item_ids.")
    input: str
    expected: str | None = Field(description="The reference the judge was given.")
    output: str | None = Field(description="The answer graded.")
    status: Literal["scored", "failed", "timed_out"]
    score: float | None
    reasoning: str | None
    error: str | None
    latency_ms: float | None


class JudgeUsed(ApiOutput):
    provider: str
    model: str


class JudgeTestReport(ApiOutput):
    leaderboard_id: str
    saved: bool = Field(description="Always false: a dry-run stores nothing.")
    judge: JudgeUsed
    results: list[JudgeTestResult]
    mean_score: float | None
    scored: int
    failed: int
    timed_out: int
