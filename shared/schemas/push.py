"""Push dataset request and response models (seed: drgero-push-datasets-api)."""

from __future__ import annotations

from typing import Any

from pydantic import Field, RootModel

from shared.schemas.common import ApiInput, ApiOutput


class PushBody(RootModel[dict[str, Any]]):
    """One row, or `{"rows": [...]}`; each row is normalized and accepted or rejected on its own."""

    model_config = {"json_schema_extra": {"examples": [
        {"input": "What did the user ask?", "output": "The answer your current LLM returned"},
        {"rows": [{"id": "ticket-1001", "input": "How do I cancel?", "output": "From Billing settings.",
                   "metadata": {"source": "support"}}]},
    ]}}


class PushLimits(ApiOutput):
    daily_event_limit: int
    monthly_event_limit: int
    max_samples_to_gather: int


class PushConsolidation(ApiOutput):
    should_consolidate: bool


class RowRejection(ApiOutput):
    index: int = Field(description="Position of the row in the request.")
    reason: str = Field(description="missing_input, invalid_messages, invalid_id, invalid_ref, invalid_metadata, "
                                    "metadata_too_large, field_too_long, invalid_value, not_an_object, duplicate, "
                                    "quota_exceeded or dataset_full.")
    message: str


class PushAccepted(ApiOutput):
    accepted_rows: int
    rejected_rows: int
    status: str = Field(description="accepted, partial or rejected.")
    batch_id: str
    pending_events: int
    limits: PushLimits
    consolidation: PushConsolidation
    rejections: list[RowRejection] | None = None


class PushQuota(ApiOutput):
    daily_event_limit: int
    used_today: int
    remaining_today: int
    monthly_event_limit: int
    used_this_month: int
    remaining_this_month: int


class NextConsolidation(ApiOutput):
    every_events: int
    every_hours: float
    oldest_pending_at: str | None
    due_by_age_at: str | None
    due_now: bool


class PushStatus(ApiOutput):
    leaderboard_id: str
    pending_events: int
    consolidated_rows: int
    dataset_version: int
    consolidated_at: str | None
    deleted_rows: int = Field(0, description="Deleted rows of the current version (restorable, not in the file).")
    pending_edits: int = Field(0, description="Item edits not yet folded into a version.")
    quota: PushQuota
    max_samples_to_gather: int
    auto_limit_size: bool
    dedupe: bool
    next_consolidation: NextConsolidation
    active_push_tokens: int


class ConsolidationResult(ApiOutput):
    leaderboard_id: str
    changed: bool = Field(description="False when nothing was pending.")
    version: int
    rows: int = Field(description="Rows in the dataset after this consolidation.")
    batches: int
    merged_rows: int
    deduplicated_rows: int
    dropped_rows: int = Field(description="Oldest rows dropped to stay within max_samples_to_gather.")
    edited_rows: int = Field(0, description="Rows rewritten with a pending item edit (PATCH, DELETE, restore).")
    deleted_rows: int = Field(0, description="Deleted rows kept out of this version (restorable).")
    consolidated_at: str | None


class DueConsolidation(ApiOutput):
    leaderboard_id: str
    changed: bool
    reason: str = Field(description="events, age, or edits (item edits waiting to be folded).")
    pending_rows: int
    version: int | None = None
    rows: int | None = None
    merged_rows: int | None = None
    deduplicated_rows: int | None = None
    dropped_rows: int | None = None
    batches: int | None = None
    edited_rows: int | None = None
    deleted_rows: int | None = None
    consolidated_at: str | None = None
    error: str | None = None


class DueConsolidations(ApiOutput):
    consolidated: list[DueConsolidation]


class PushTokenCreate(ApiInput):
    name: str = Field("push token", min_length=1, max_length=200)


class PushTokenCreated(ApiOutput):
    id: str
    name: str
    token: str = Field(description="The hpd_ value; shown only in this response.")
    leaderboard_id: str
    webhook_url: str
    dataset_url: str
    header: str = Field(description="The header to send the token in.")
    created_at: str


class PushTokensRevoked(ApiOutput):
    leaderboard_id: str
    revoked: int
