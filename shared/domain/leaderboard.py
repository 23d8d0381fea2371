"""The Leaderboard aggregate and its candidates: the rules a leaderboard satisfies after every change,
how its prompt is filled, its push settings (with their one set of defaults) and its ranking."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from shared.domain.aggregate import Aggregate
from shared.domain.urls import huggingface_jsonl_url
from shared.errors import ConflictError, InvalidInput

JUDGE_FIELDS = ("judge_provider", "judge_model", "judge_auto_decide")


class PushSettings(BaseModel):
    """A PUSH dataset's limits and consolidation triggers (kept, unused, on GET leaderboards)."""

    auto_limit_size: bool = True
    max_samples_to_gather: int = Field(1000, ge=1, le=1_000_000)
    daily_event_limit: int = Field(5000, ge=1, le=10_000_000)
    monthly_event_limit: int = Field(50_000, ge=1, le=300_000_000)
    consolidate_every_events: int = Field(500, ge=1, le=1_000_000)
    consolidate_every_hours: float = Field(24, gt=0, le=24 * 31)
    dedupe: bool = True


class Leaderboard(Aggregate, PushSettings):
    workspace_id: str
    name: str
    description: str | None = None
    status: str = "active"
    category: str | None = None
    constraints: dict[str, Any] | None = None
    system_prompt: str | None = None
    model_prompt: str | None = None
    dataset_type: str = "GET"
    dataset_url: str | None = None
    dataset_metadata: dict[str, Any] | None = None
    dataset_auto_labels: bool = False
    eval_type: str = "exact"
    eval_metadata: dict[str, Any] = Field(default_factory=dict)
    chosen_leaderboard_model_id: str | None = None
    chosen_model_strategy: str = "ranking_winner"
    schedule: dict[str, Any] | None = None
    # Schedule bookkeeping: when each trigger is next due, and what the last looks saw.
    schedule_due: dict[str, str] = Field(default_factory=dict)
    schedule_next_due_at: str | None = None
    schedule_rows_seen: int = 0
    schedule_model_versions: dict[str, str] | None = None
    latest_ranking: dict[str, Any] | None = None
    created_at: str
    updated_at: str

    @property
    def is_push(self) -> bool:
        return self.dataset_type == "PUSH"

    def require_push(self) -> Leaderboard:
        """Itself, if it takes pushed rows; 409 `not_a_push_dataset` otherwise."""
        if not self.is_push:
            raise ConflictError("This leaderboard reads its dataset from a URL (dataset_type GET); "
                                "only PUSH leaderboards accept pushed rows.", code="not_a_push_dataset")
        return self

    @property
    def prompt(self) -> str:
        """The task prompt template: system_prompt, or model_prompt when only that is set."""
        return self.system_prompt or self.model_prompt or ""

    @property
    def captures_traces(self) -> bool:
        """Whether answered inference calls become pushed rows (`dataset_metadata.capture_traces_to_dataset`)."""
        return self.is_push and bool((self.dataset_metadata or {}).get("capture_traces_to_dataset"))

    def check(self, huggingface_base_url: str) -> Leaderboard:
        """Validate the whole leaderboard (422 naming every problem); canonicalises the dataset URL."""
        problems: list[dict[str, str]] = []
        if not self.prompt:
            problems.append({"field": "system_prompt", "message": "system_prompt or model_prompt is required"})
        if self.dataset_type == "GET":
            canonical = huggingface_jsonl_url(self.dataset_url, huggingface_base_url) if self.dataset_url else None
            if canonical is None:
                problems.append({"field": "dataset_url", "message":
                                 "GET datasets need a Hugging Face JSONL URL like "
                                 f"{huggingface_base_url}/datasets/OWNER/NAME/resolve/main/FILE.jsonl"})
            else:
                self.dataset_url = canonical
        if self.eval_type == "judge" and self.eval_metadata.get("judge_auto_decide") is False:
            for name in ("judge_provider", "judge_model"):
                if not self.eval_metadata.get(name):
                    problems.append({"field": name, "message": "required when judge auto-decide is off"})
        if self.daily_event_limit > self.monthly_event_limit:
            problems.append({"field": "daily_event_limit", "message": "cannot exceed monthly_event_limit"})
        if problems:
            raise InvalidInput("; ".join(f"{p['field']}: {p['message']}" for p in problems), details=problems)
        return self

    def record_ranking(self, run_id: str, ranking: list[dict[str, Any]], winner: str | None, at: str) -> None:
        """A finished run's ranking; with the `ranking_winner` strategy its winner becomes the chosen model."""
        self.latest_ranking = {"run_id": run_id, "ranking": ranking, "at": at}
        if self.chosen_model_strategy == "ranking_winner" and winner:
            self.chosen_leaderboard_model_id = winner


class Candidate(Aggregate):
    """A model competing on one leaderboard; its token is kept sealed, and shown only as a hint."""

    workspace_id: str
    leaderboard_id: str
    name: str
    platform: str
    model_url: str | None = None
    model_id: str | None = None
    auth_type: str = "bearer"
    auth_header_name: str | None = None
    token_sealed: str | None = None
    token_hint: str | None = None
    created_at: str

    @property
    def has_token(self) -> bool:
        return bool(self.token_sealed)

    @property
    def identity(self) -> tuple[str, str | None]:
        """What makes two candidates the same model: a leaderboard has each at most once."""
        return self.platform, self.model_id if self.platform == "Dr.Gero" else self.model_url


def fold_judge_settings(fields: dict[str, Any], eval_metadata: dict[str, Any]) -> dict[str, Any]:
    """Top-level judge_* fields live in eval_metadata, the field the seed lets PATCH change."""
    merged = dict(eval_metadata)
    for name in JUDGE_FIELDS:
        if name in fields:
            merged[name] = fields.pop(name)
    if merged.get("judge_auto_decide") is None:
        merged["judge_auto_decide"] = not merged.get("judge_model")
    return merged


def fill_prompt(template: str, row: dict[str, Any]) -> str:
    """`{input}` (and `{id}`) replaced by the row's values; without `{input}`, the input is appended."""
    if "{input}" not in template:
        return f"{template}\n\n{row['input']}" if template else row["input"]
    return template.replace("{input}", row["input"]).replace("{id}", str(row["id"]))
