"""Browser-session family: API tokens, members and invites, provider integrations, auto-select.

A Supabase user session authenticates these; the user's role in the workspace decides:
members may read the member list and auto-select candidates, owners and admins manage.
"""

from __future__ import annotations

from typing import Any

from functions.session_auto_select import ROUTES as AUTO_SELECT_ROUTES
from shared.auth.scopes import ALL_SCOPES, WORKSPACE_ADMIN, WORKSPACE_MEMBER
from shared.errors import InvalidInput
from shared.http.routes import Call, Family, Route
from shared.schemas.common import Deleted, Page, PageQuery
from shared.schemas.session import (
    ApiTokenCreate,
    ApiTokenCreated,
    ApiTokenPublic,
    IntegrationCheck,
    IntegrationCheckResult,
    IntegrationList,
    IntegrationPublic,
    IntegrationPut,
    InviteCreate,
    InvitePublic,
    MembersView,
    MeView,
    MyWorkspace,
    Removed,
    RemoveTarget,
    RemoveTargetQuery,
)
from shared.services import api_tokens, integrations, members


async def list_tokens(call: Call[None]) -> dict[str, Any]:
    items, total = await api_tokens.list_api_tokens(call.deps, call.workspace_id, call.query.limit, call.query.offset)
    return Page.of(items, total, call.query)


async def create_token(call: Call[ApiTokenCreate]) -> ApiTokenCreated:
    assert call.principal is not None
    token, record = await api_tokens.create_api_token(
        call.deps, call.workspace_id, call.body.name, call.body.scopes or list(ALL_SCOPES),
        created_by=call.principal.credential_id)
    return ApiTokenCreated(**dict(ApiTokenPublic.model_validate(record, from_attributes=True)), token=token)


async def revoke_token(call: Call[None]) -> Any:
    return await api_tokens.revoke_api_token(call.deps, call.workspace_id, call.path["token_id"])


async def delete_token(call: Call[None]) -> dict[str, Any]:
    await api_tokens.delete_api_token(call.deps, call.workspace_id, call.path["token_id"])
    return {"id": call.path["token_id"], "deleted": True}


async def list_members(call: Call[None]) -> dict[str, Any]:
    return await members.members_and_invites(call.deps, call.workspace_id)


async def invite_user(call: Call[InviteCreate]) -> dict[str, Any]:
    assert call.principal is not None
    return await members.invite(call.deps, call.principal, call.body.email, call.body.role)


async def remove_user(call: Call[RemoveTarget | None]) -> dict[str, Any]:
    assert call.principal is not None
    named = {**call.query.model_dump(exclude_none=True), **(call.body.model_dump(exclude_none=True) if call.body else {})}
    if not named:
        raise InvalidInput("Name the member or invite to remove: email, user_id or invite_id (body or query).",
                           details=[{"field": "email", "message": "one of email, user_id, invite_id is required"}])
    return await members.remove(call.deps, call.principal, named)


async def me(call: Call[None]) -> dict[str, Any]:
    assert call.principal is not None
    return await members.my_workspaces_and_invites(call.deps, call.principal)


async def accept_invite(call: Call[None]) -> dict[str, Any]:
    assert call.principal is not None
    return await members.accept_invite(call.deps, call.principal, call.path["invite_id"])


async def decline_invite(call: Call[None]) -> dict[str, Any]:
    assert call.principal is not None
    await members.decline_invite(call.deps, call.principal, call.path["invite_id"])
    return {"id": call.path["invite_id"], "deleted": True}


async def leave_workspace(call: Call[None]) -> dict[str, Any]:
    assert call.principal is not None
    return await members.leave(call.deps, call.principal, call.path["workspace_id"])


async def validate_integration(call: Call[IntegrationCheck]) -> dict[str, Any]:
    return await integrations.check_key(call.deps, call.body.provider, call.body.api_key)


async def list_integrations(call: Call[None]) -> dict[str, Any]:
    items = await integrations.list_integrations(call.deps, call.workspace_id)
    return {"data": items, "count": len(items)}


def _provider(call: Call[Any]) -> str:
    provider = call.path["provider"].lower()
    if provider not in integrations.PROVIDERS:
        raise InvalidInput.field("provider", f"must be one of {', '.join(integrations.PROVIDERS)}")
    return provider


async def put_integration(call: Call[IntegrationPut]) -> dict[str, Any]:
    return await integrations.put_integration(
        call.deps, call.workspace_id, _provider(call), call.body.api_key, call.body.validate_key)


async def delete_integration(call: Call[None]) -> dict[str, Any]:
    provider = _provider(call)
    await integrations.delete_integration(call.deps, call.workspace_id, provider)
    return {"id": provider, "deleted": True}


ADMIN = (WORKSPACE_ADMIN,)
ROUTES: list[Route] = [
    Route("GET", "/api/tokens", list_tokens, "List API tokens (never their secrets)", auth="session",
          scopes=ADMIN, query=PageQuery, response=Page[ApiTokenPublic]),
    Route("POST", "/api/tokens", create_token, "Create an API token; its value is shown once", auth="session",
          scopes=ADMIN, body=ApiTokenCreate, response=ApiTokenCreated, status=201),
    Route("POST", "/api/tokens/{token_id}/revoke", revoke_token, "Revoke an API token at once", auth="session",
          scopes=ADMIN, response=ApiTokenPublic),
    Route("DELETE", "/api/tokens/{token_id}", delete_token, "Delete an API token", auth="session",
          scopes=ADMIN, response=Deleted),
    Route("GET", "/api/invite-user", list_members, "List workspace members and pending invites", auth="session",
          scopes=(WORKSPACE_MEMBER,), response=MembersView),
    Route("POST", "/api/invite-user", invite_user, "Invite an email to the workspace with a role", auth="session",
          scopes=ADMIN, body=InviteCreate, response=InvitePublic, status=201, errors=(409,)),
    Route("DELETE", "/api/invite-user", remove_user, "Remove a member or revoke an invite", auth="session",
          scopes=ADMIN, body=RemoveTarget, body_required=False, query=RemoveTargetQuery, response=Removed,
          errors=(404, 409)),
    Route("GET", "/api/me", me, "The signed-in user's workspaces and the invites waiting for their answer",
          auth="user", response=MeView),
    Route("POST", "/api/me/invites/{invite_id}/accept", accept_invite, "Accept an invite: join its workspace",
          auth="user", response=MyWorkspace),
    Route("POST", "/api/me/invites/{invite_id}/decline", decline_invite, "Decline an invite", auth="user",
          response=Deleted),
    Route("POST", "/api/me/workspaces/{workspace_id}/leave", leave_workspace,
          "Leave a workspace (not as its last owner); the tokens made there are revoked", auth="user",
          response=Removed, errors=(409,)),
    Route("POST", "/api/integrations/validate", validate_integration,
          "Check provider credentials with the provider, without storing them", auth="session",
          scopes=ADMIN, body=IntegrationCheck, response=IntegrationCheckResult, errors=(502,)),
    Route("GET", "/api/integrations", list_integrations, "List the workspace's provider integrations (redacted)",
          auth="session", scopes=ADMIN, response=IntegrationList),
    Route("PUT", "/api/integrations/{provider}", put_integration,
          "Store the workspace's key for a provider (sealed at rest)", auth="session",
          scopes=ADMIN, body=IntegrationPut, response=IntegrationPublic, errors=(502,)),
    Route("DELETE", "/api/integrations/{provider}", delete_integration, "Remove a provider integration",
          auth="session", scopes=ADMIN, response=Deleted, errors=(404,)),
    *AUTO_SELECT_ROUTES,
]

FAMILY = Family("session_api", "Browser-session APIs: tokens, members, integrations, auto-select.", ROUTES)
