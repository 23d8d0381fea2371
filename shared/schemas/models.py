"""Own (Dr.Gero) models and the supported base models."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from shared.schemas.common import ApiInput, ApiOutput


class ModelCreate(ApiInput):
    name: str = Field(min_length=1, max_length=200)
    description: str | None = Field(None, max_length=2_000)
    base_model: str = Field(min_length=1, max_length=200)
    metadata: dict[str, Any] | None = None


class ModelUpdate(ApiInput):
    name: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=2_000)
    metadata: dict[str, Any] | None = None


class ModelPublic(ApiOutput):
    id: str
    name: str
    description: str | None
    base_model: str
    status: str = Field(description="draft until a fine-tune succeeds, then ready.")
    version: int = Field(description="Goes up by one with each successful fine-tune.")
    endpoint_url: str | None
    fine_tuned_model: str | None = Field(None, description="The backend's name of the latest fine-tuned version.")
    metadata: dict[str, Any] | None
    created_at: str
    updated_at: str


class BaseModelPublic(ApiOutput):
    id: str
    name: str
    family: str | None = Field(description="Known for the built-in list; a backend's listing gives ids only.")
    parameters: str | None
    context_length: int | None
    license: str | None
    fine_tunable: bool


class BaseModelList(ApiOutput):
    data: list[BaseModelPublic]
    count: int
    source: Literal["backend", "built-in"] = Field(
        description="backend: the fine-tuning backend's own models that can be fine-tuned; built-in: the fixed "
                    "list, offered when the backend cannot list its models or does not answer.")


class LeaderboardRef(ApiOutput):
    id: str
    name: str
    leaderboard_model_id: str
