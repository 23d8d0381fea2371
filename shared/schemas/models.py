"""Own (Dr.Gero) models and the supported base models."""

from __future__ import annotations

from typing import Any

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
    family: str
    parameters: str
    context_length: int
    license: str
    fine_tunable: bool


class BaseModelList(ApiOutput):
    data: list[BaseModelPublic]
    count: int


class LeaderboardRef(ApiOutput):
    id: str
    name: str
    leaderboard_model_id: str
