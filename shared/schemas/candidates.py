"""Candidate models of a leaderboard (platform, endpoint, credentials)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AliasChoices, BeforeValidator, Field

from shared.schemas.common import HEADER_SAFE, ApiInput, ApiOutput, normalizer

PLATFORMS = ("OpenRouter", "Custom", "HuggingFace", "Dr.Gero")
AUTH_TYPES = ("bearer", "x-api-key", "x-dr.gero-api-key", "authorization", "custom-header")
Platform = Annotated[Literal["OpenRouter", "Custom", "HuggingFace", "Dr.Gero"], BeforeValidator(normalizer(PLATFORMS))]
AuthType = Annotated[
    Literal["bearer", "x-api-key", "x-dr.gero-api-key", "authorization", "custom-header"],
    BeforeValidator(normalizer(AUTH_TYPES)),
]


class CandidateCreate(ApiInput):
    name: str = Field(
        min_length=1, max_length=200, validation_alias=AliasChoices("name", "model_name", "modelName")
    )
    platform: Platform = "Dr.Gero"
    model_url: str | None = Field(
        None, min_length=1, max_length=2_000, validation_alias=AliasChoices("model_url", "modelUrl", "url")
    )
    model_id: str | None = Field(None, validation_alias=AliasChoices("model_id", "modelId"))
    token: str | None = Field(None, min_length=1, max_length=4_096, pattern=HEADER_SAFE)
    auth_type: AuthType = "bearer"
    auth_header_name: str | None = Field(
        None, min_length=1, max_length=100, pattern=r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$"
    )


class CandidatePublic(ApiOutput):
    id: str
    leaderboard_id: str
    name: str
    platform: str
    model_url: str | None
    model_id: str | None
    auth_type: str
    auth_header_name: str | None
    token: str | None = Field(validation_alias=AliasChoices("token", "token_hint"),
                              description="Redacted: only the last four characters are shown.")
    has_token: bool
    created_at: str
