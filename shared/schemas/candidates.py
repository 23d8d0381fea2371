"""Candidate models of a leaderboard (platform, endpoint, credentials)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AliasChoices, BeforeValidator, Field, field_validator
from pydantic.json_schema import SkipJsonSchema

from shared.schemas.common import HEADER_SAFE, ApiInput, ApiOutput, normalizer

PLATFORMS = ("OpenRouter", "Custom", "HuggingFace", "Dr.Gero", "Local")
AUTH_TYPES = ("bearer", "x-api-key", "x-dr.gero-api-key", "authorization", "custom-header")
Platform = Annotated[Literal["OpenRouter", "Custom", "HuggingFace", "Dr.Gero", "Local"],
                     BeforeValidator(normalizer(PLATFORMS))]
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


class CandidateUpdate(ApiInput):
    """What can change about a candidate; `token: null` removes its token.

    The platform and the own model it names are what the candidate *is*: changing them is
    adding another candidate, so they are refused by name rather than as unknown fields.
    """

    name: str | None = Field(
        None, min_length=1, max_length=200, validation_alias=AliasChoices("name", "model_name", "modelName")
    )
    model_url: str | None = Field(
        None, min_length=1, max_length=2_000, validation_alias=AliasChoices("model_url", "modelUrl", "url")
    )
    token: str | None = Field(None, min_length=1, max_length=4_096, pattern=HEADER_SAFE)
    auth_type: AuthType | None = None
    auth_header_name: str | None = Field(
        None, min_length=1, max_length=100, pattern=r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$"
    )
    platform: SkipJsonSchema[Any] = Field(None, validation_alias=AliasChoices("platform"))
    model_id: SkipJsonSchema[Any] = Field(None, validation_alias=AliasChoices("model_id", "modelId"))

    @field_validator("platform", "model_id")
    @classmethod
    def _fixed(cls, value: Any) -> Any:
        raise ValueError("cannot change; remove the candidate and add the other model instead")

    @field_validator("name", "auth_type")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("cannot be null")
        return value


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
