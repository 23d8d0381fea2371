"""Browser-session bodies: API tokens, members and invites, provider integrations."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AliasChoices, BaseModel, BeforeValidator, ConfigDict, Field

from shared.schemas.common import HEADER_SAFE, ApiInput, ApiOutput, normalizer

Role = Literal["owner", "admin", "member"]
Provider = Annotated[Literal["openrouter", "huggingface"],
                     BeforeValidator(normalizer(("openrouter", "huggingface")))]
EMAIL = r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$"


class ApiTokenCreate(ApiInput):
    name: str = Field(min_length=1, max_length=200)
    scopes: list[str] | None = Field(None, min_length=1, max_length=20,
                                     description="Scopes to grant; every API scope when omitted.")


class ApiTokenPublic(ApiOutput):
    id: str
    name: str
    display_prefix: str = Field(description="The first characters of the token, to recognise it.")
    scopes: list[str]
    created_at: str
    last_used_at: str | None = Field(description="Updated at most once a minute.")
    revoked_at: str | None
    created_by: str | None = Field(description="The user id of the member who created it, `cli` for the command "
                                               "line; removing that member revokes it.")


class ApiTokenCreated(ApiTokenPublic):
    token: str = Field(description="The token itself, shown only in this response.")


class MemberPublic(ApiOutput):
    id: str
    user_id: str
    email: str
    role: Role
    created_at: str


class InvitePublic(ApiOutput):
    id: str
    email: str
    role: Role
    invited_by: str | None
    created_at: str
    expires_at: str = Field(description="Unused invites lapse after 14 days; inviting again renews them.")


class MembersView(ApiOutput):
    members: list[MemberPublic]
    invites: list[InvitePublic]


class MyWorkspace(ApiOutput):
    workspace_id: str
    name: str | None
    role: Role


class MyInvite(ApiOutput):
    id: str = Field(description="Accept with POST /api/me/invites/{id}/accept, or decline.")
    workspace_id: str
    workspace_name: str | None
    role: Role
    invited_by: str | None
    created_at: str
    expires_at: str | None


class MeView(ApiOutput):
    user_id: str
    email: str | None
    workspaces: list[MyWorkspace]
    invites: list[MyInvite] = Field(description="Invites to this email waiting for an answer.")


class InviteCreate(ApiInput):
    email: str = Field(max_length=254, pattern=EMAIL)
    role: Role = "member"


class _Target(BaseModel):
    email: str | None = Field(None, max_length=254, pattern=EMAIL)
    user_id: str | None = Field(None, min_length=1, max_length=200)
    invite_id: str | None = Field(None, min_length=1, max_length=200)


class RemoveTarget(ApiInput, _Target):
    """Which member or invite to remove: one of `email`, `user_id`, `invite_id`."""


class RemoveTargetQuery(_Target):
    model_config = ConfigDict(extra="ignore")


class Removed(ApiOutput):
    id: str
    deleted: bool
    kind: Literal["member", "invite"]
    tokens_revoked: int = Field(0, description="API tokens the removed member had created, now revoked.")


class IntegrationCheck(ApiInput):
    provider: Provider
    api_key: str = Field(min_length=1, max_length=4_096, pattern=HEADER_SAFE,
                         validation_alias=AliasChoices("api_key", "apiKey", "key", "token"))


class IntegrationCheckResult(ApiOutput):
    provider: str
    valid: bool
    reason: str = Field(description="The provider's own words when it refused the key.")
    account: dict[str, Any] | None = Field(description="What the provider says about the key (label, limits, user).")


class IntegrationPut(ApiInput):
    api_key: str = Field(min_length=1, max_length=4_096, pattern=HEADER_SAFE,
                         validation_alias=AliasChoices("api_key", "apiKey", "key", "token"))
    validate_key: bool = Field(True, validation_alias=AliasChoices("validate", "validate_key", "validateKey"),
                               description="Check the key with the provider first and refuse a rejected one.")


class IntegrationPublic(ApiOutput):
    provider: str
    key_hint: str | None = Field(description="Redacted: only the last four characters are shown.")
    account: dict[str, Any] | None
    validated: bool
    updated_at: str


class IntegrationList(ApiOutput):
    data: list[IntegrationPublic]
    count: int
