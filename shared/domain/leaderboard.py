"""The Leaderboard aggregate and its candidates: the rules a leaderboard satisfies after every change,
how its prompt is filled, its push settings (with their one set of defaults) and its ranking."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from shared.domain.aggregate import Aggregate
from shared.domain.urls import huggingface_jsonl_url, unsafe_url_reason
from shared.errors import ConflictError, InvalidInput

JUDGE_FIELDS = ("judge_provider", "judge_model", "judge_auto_decide")
# What a PATCH may still change on an archived leaderboard: its status (to bring it back) and
# the words that describe it. Everything that decides how it runs, scores or routes stays frozen.
ARCHIVED_EDITABLE = frozenset({"status", "name", "description", "category"})


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
    # Online evaluation of production traces (shared/schemas/online_eval.py), and the
    # quality_drop trigger's memory: when it last fired and the run it started.
    online_eval: dict[str, Any] | None = None
    quality_drop_fired_at: str | None = None
    quality_drop_run_id: str | None = None
    created_at: str
    updated_at: str
    # Deletion: once `deleted_at` is set the leaderboard is missing for everyone but its purge,
    # which works in numbered passes; `purge_step` is the pass queued last (its task is named
    # after it) and `purge_due_at` when that pass should run, so a stalled purge shows.
    deleted_at: str | None = None
    purge_step: int = 0
    purge_due_at: str | None = None

    @property
    def is_push(self) -> bool:
        return self.dataset_type == "PUSH"

    # --- status: active, paused (nothing automatic) or archived (read-only) ---------------------

    @property
    def archived(self) -> bool:
        return self.status == "archived"

    @property
    def consolidates_automatically(self) -> bool:
        """Whether pending rows are consolidated at their thresholds without anyone asking: active PUSH ones."""
        return self.is_push and self.status == "active"

    @property
    def schedule_on_hold(self) -> str | None:
        """Why its scheduled runs do not start (a paused or archived leaderboard), or None when they do."""
        return None if self.status == "active" else f"The leaderboard is {self.status}."

    def require_unarchived(self, action: str) -> Leaderboard:
        """Itself, unless it is archived: then `action` is refused with 409 `leaderboard_archived`."""
        if self.archived:
            raise ConflictError(f"The leaderboard is archived, so {action} is refused; PATCH its status to active "
                                "first.", code="leaderboard_archived")
        return self

    def require_editable(self, fields: set[str]) -> None:
        """An archived leaderboard lets a PATCH change only ARCHIVED_EDITABLE (409 `leaderboard_archived` otherwise)."""
        frozen = sorted(fields - ARCHIVED_EDITABLE) if self.archived else []
        if frozen:
            raise ConflictError(f"The leaderboard is archived: only {', '.join(sorted(ARCHIVED_EDITABLE))} can "
                                f"change until its status is active again (not {', '.join(frozen)}).",
                                code="leaderboard_archived", details=[{"field": name} for name in frozen])

    # --- deletion -------------------------------------------------------------------------------

    @property
    def deleted(self) -> bool:
        return self.deleted_at is not None

    def mark_deleted(self, at: str) -> None:
        """Hidden from now on; its purge pass 0 is due at once."""
        self.deleted_at, self.purge_step, self.purge_due_at = at, 0, at
        # run-due finds leaderboards by their next due time: a deleted one has none.
        self.schedule_due, self.schedule_next_due_at = {}, None

    def purge_moved_to(self, step: int, due_at: str) -> None:
        """Record that purge pass `step` was queued to run at `due_at` (an older pass then stands down)."""
        if step > self.purge_step:
            self.purge_step, self.purge_due_at = step, due_at

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

    def check(self, allow_private_urls: bool) -> Candidate:
        """Validate how the candidate is called (422 naming the field), when it is added and after every change.

        An own model is named by `model_id`; every other platform by `model_url`, which is a
        model id or an endpoint URL that may not point inside the network.
        """
        if self.auth_type == "custom-header" and not self.auth_header_name:
            raise InvalidInput.field("auth_header_name", "required when auth_type is custom-header")
        if self.platform == "Dr.Gero":
            if not self.model_id:
                raise InvalidInput.field("model_id", "required for Dr.Gero models")
            if self.model_url:
                raise InvalidInput.field("model_url", "Dr.Gero models are named by model_id, not by a URL")
            return self
        if not self.model_url:
            raise InvalidInput.field("model_url", f"required for {self.platform} models")
        if self.platform == "Custom" or self.model_url.startswith(("http://", "https://")):
            reason = unsafe_url_reason(self.model_url, allow_private_urls)
            if reason:
                raise InvalidInput.field("model_url", reason)
        elif any(ch.isspace() for ch in self.model_url):
            raise InvalidInput.field("model_url", "a model id cannot contain spaces")
        return self


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
