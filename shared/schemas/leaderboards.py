"""Leaderboard request and response models (seed: drgero-leaderboards-api)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AliasChoices, BeforeValidator, ConfigDict, Field, model_validator, with_config
from typing_extensions import TypedDict

from shared.domain.leaderboard import PushSettings
from shared.schemas.candidates import CandidatePublic
from shared.schemas.common import ApiInput, ApiOutput, normalizer
from shared.schemas.online_eval import OnlineEval
from shared.schemas.schedules import Schedule

DatasetType = Annotated[Literal["GET", "PUSH"], BeforeValidator(normalizer(("GET", "PUSH")))]
EvalType = Annotated[Literal["exact", "judge", "human"], BeforeValidator(normalizer(("exact", "judge", "human")))]
Status = Annotated[Literal["active", "paused", "archived"], BeforeValidator(normalizer(("active", "paused", "archived")))]
Strategy = Annotated[
    Literal["ranking_winner", "manual"], BeforeValidator(normalizer(("ranking_winner", "manual")))
]
Name = Annotated[str, Field(min_length=1, max_length=200)]
Text = Annotated[str, Field(max_length=2_000)]
Prompt = Annotated[str, Field(max_length=20_000)]
Url = Annotated[str, Field(max_length=2_000)]
JsonObject = dict[str, Any]
# Who can judge or label: the platforms a judge is called on (own models are not offered as judges).
JUDGE_PROVIDERS = ("OpenRouter", "HuggingFace", "Custom", "Local")
JudgeProvider = Annotated[Literal["OpenRouter", "HuggingFace", "Custom", "Local"],
                          BeforeValidator(normalizer(JUDGE_PROVIDERS))]


@with_config(ConfigDict(extra="allow"))
class EvalMetadata(TypedDict, total=False):
    """Settings of the evaluation: any keys, of which the providers must be known ones (stored canonically)."""

    judge_provider: JudgeProvider | None
    labeler_provider: JudgeProvider | None


class LeaderboardCreate(ApiInput, PushSettings):
    """A new leaderboard; the push settings and their defaults are the domain's (`PushSettings`)."""

    name: Name
    description: Text | None = None
    system_prompt: Prompt | None = None
    model_prompt: Prompt | None = None
    dataset_type: DatasetType = "GET"
    dataset_url: Url | None = None
    dataset_metadata: JsonObject | None = None
    dataset_auto_labels: bool = False
    eval_type: EvalType = "exact"
    eval_metadata: EvalMetadata | None = None
    judge_provider: JudgeProvider | None = None
    judge_model: str | None = Field(None, max_length=200)
    judge_auto_decide: bool | None = Field(
        None, description="Let Dr.Gero pick the judge; defaults to true unless a judge model is given."
    )
    category: str | None = Field(None, max_length=100)
    constraints: JsonObject | None = None
    status: Status = "active"
    chosen_model_strategy: Strategy = "ranking_winner"
    schedule: Schedule | None = None
    online_eval: OnlineEval | None = None


SCHEDULE_KEYS = {"version", "triggers", "dataset"}


def _allows_none(field: Any) -> bool:
    return field.annotation is None or type(None) in getattr(field.annotation, "__args__", ())


class LeaderboardUpdate(ApiInput):
    """Only these fields can change; any other field is refused with 422.

    A body that is a bare schedule document (`{"version", "triggers", "dataset"}`, as in
    `curl -d @schedule.json`) is read as `{"schedule": body}`.
    """

    @model_validator(mode="before")
    @classmethod
    def _bare_schedule(cls, data: Any) -> Any:
        if isinstance(data, dict) and "triggers" in data and set(data) <= SCHEDULE_KEYS:
            return {"schedule": data}
        return data

    @model_validator(mode="after")
    def _null_only_where_a_leaderboard_may_have_none(self) -> LeaderboardUpdate:
        # `null` clears a field, which only optional fields can be (eval_metadata: null keeps it).
        required = {name for name, field in LeaderboardPublic.model_fields.items() if not _allows_none(field)}
        nulls = sorted(n for n in self.model_fields_set if getattr(self, n) is None and n in required - {"eval_metadata"})
        if nulls:
            raise ValueError(f"these fields cannot be null: {', '.join(nulls)}")
        return self

    name: Name | None = None
    description: Text | None = None
    status: Status | None = None
    dataset_type: DatasetType | None = None
    dataset_url: Url | None = None
    dataset_metadata: JsonObject | None = None
    dataset_auto_labels: bool | None = None
    eval_type: EvalType | None = None
    eval_metadata: EvalMetadata | None = None
    judge_provider: JudgeProvider | None = None
    judge_model: str | None = Field(None, max_length=200)
    judge_auto_decide: bool | None = None
    category: str | None = Field(None, max_length=100)
    constraints: JsonObject | None = None
    model_prompt: Prompt | None = None
    system_prompt: Prompt | None = None
    chosen_leaderboard_model_id: str | None = Field(
        None, validation_alias=AliasChoices("chosen_leaderboard_model_id", "chosenLeaderboardModelId")
    )
    chosen_model_strategy: Strategy | None = None
    schedule: Schedule | None = None
    online_eval: OnlineEval | None = None
    auto_limit_size: bool | None = None
    max_samples_to_gather: int | None = Field(None, ge=1, le=1_000_000)
    daily_event_limit: int | None = Field(None, ge=1, le=10_000_000)
    monthly_event_limit: int | None = Field(None, ge=1, le=300_000_000)
    consolidate_every_events: int | None = Field(None, ge=1, le=1_000_000)
    consolidate_every_hours: float | None = Field(None, gt=0, le=24 * 31)
    dedupe: bool | None = None


class LeaderboardPublic(ApiOutput):
    id: str
    name: str
    description: str | None
    status: str
    category: str | None
    constraints: JsonObject | None
    system_prompt: str | None
    model_prompt: str | None
    dataset_type: str
    dataset_url: str | None
    dataset_metadata: JsonObject | None
    dataset_auto_labels: bool
    eval_type: str
    eval_metadata: JsonObject
    auto_limit_size: bool
    max_samples_to_gather: int
    daily_event_limit: int
    monthly_event_limit: int
    consolidate_every_events: int
    consolidate_every_hours: float
    dedupe: bool
    chosen_leaderboard_model_id: str | None
    chosen_model_strategy: str
    schedule: JsonObject | None
    online_eval: JsonObject | None = Field(None, description="Online evaluation of production traces.")
    schedule_next_due_at: str | None = Field(None, description="When the cron trigger next fires (UTC).")
    created_at: str
    updated_at: str


class Challenge(ApiOutput):
    """The task being judged: prompt template, dataset and evaluation."""

    prompt: str
    dataset: JsonObject
    eval: JsonObject


class RunSummary(ApiOutput):
    id: str
    status: str
    run_source: str | None = None
    created_at: str
    finished_at: str | None = None
    winner_id: str | None = None


class LatestRanking(ApiOutput):
    run_id: str
    at: str
    ranking: list[dict[str, Any]] = Field(description="Entries as in a run's ranking, best first.")


class LeaderboardDetail(ApiOutput):
    leaderboard: LeaderboardPublic
    challenge: Challenge
    models: list[CandidatePublic]
    runs: list[RunSummary]
    ranking: LatestRanking | None = Field(None, description="The ranking of the latest completed run.")


class ResumedPurge(ApiOutput):
    leaderboard_id: str
    action: Literal["requeued", "deferred"] = Field(
        description="requeued: a fresh purge pass was queued; deferred: the task queue is down, the next call "
                    "tries again.")


class ResumedPurges(ApiOutput):
    purges: list[ResumedPurge]
