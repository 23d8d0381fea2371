"""Workspace settings: API tokens (value shown once), provider integrations, members and invites.

The same role rules as the session family: members see the member list; owners and admins
manage tokens, integrations and invites (a console opened with an API token has no role, so
settings are not for it).
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from functions.console.web import filled, form, redirect, render, validated
from shared.auth.scopes import ALL_SCOPES, ROLES, WORKSPACE_ADMIN
from shared.errors import DomainError, InvalidInput, UpstreamUnavailable
from shared.http.routes import Call
from shared.schemas.session import (
    ApiTokenCreate,
    ApiTokenPublic,
    IntegrationPublic,
    InviteCreate,
    InvitePublic,
    MemberPublic,
)
from shared.services import api_tokens, integrations, members

TOKENS_SHOWN = 100


async def page(call: Call[Any], created: dict[str, Any] | None = None, errors: list[dict[str, str]] = (),
               status: int = 200) -> Response:
    assert call.principal is not None
    admin = WORKSPACE_ADMIN in call.principal.scopes
    tokens, stored = [], []
    if admin:
        tokens = [ApiTokenPublic.model_validate(t, from_attributes=True) for t in
                  (await api_tokens.list_api_tokens(call.deps, call.workspace_id, TOKENS_SHOWN, 0))[0]]
        stored = [IntegrationPublic.model_validate(i, from_attributes=True)
                  for i in await integrations.list_integrations(call.deps, call.workspace_id)]
    people = await members.members_and_invites(call.deps, call.workspace_id)
    return render(call, "settings.html", status, admin=admin, tokens=tokens, integrations=stored,
                  providers=integrations.PROVIDERS, scopes=ALL_SCOPES, roles=ROLES, created=created,
                  errors=list(errors),
                  members=[MemberPublic.model_validate(m, from_attributes=True) for m in people["members"]],
                  invites=[InvitePublic.model_validate(i, from_attributes=True) for i in people["invites"]])


async def settings_page(call: Call[None]) -> Response:
    return await page(call)


async def create_token(call: Call[None]) -> Response:
    fields = await form(call)
    chosen = [scope for scope in ALL_SCOPES if fields.get(f"scope:{scope}") == "on"] or list(ALL_SCOPES)
    body, errors = validated(ApiTokenCreate, {**filled(fields, "name"), "scopes": chosen})
    if body is None:
        return await page(call, errors=errors, status=422)
    assert call.principal is not None
    value, record = await api_tokens.create_api_token(call.deps, call.workspace_id, body.name, body.scopes or chosen,
                                                      created_by=call.principal.credential_id)
    return await page(call, created={"name": record.name, "value": value}, status=201)


async def revoke_token(call: Call[None]) -> Response:
    await api_tokens.revoke_api_token(call.deps, call.workspace_id, call.path["token_id"])
    return redirect("/settings#tokens")


async def put_integration(call: Call[None]) -> Response:
    fields = await form(call)
    provider = fields.get("provider", "")
    if provider not in integrations.PROVIDERS or not fields.get("api_key", "").strip():
        return await page(call, errors=[{"field": "api_key", "message": "choose a provider and paste its key"}],
                          status=422)
    try:
        await integrations.put_integration(call.deps, call.workspace_id, provider, fields["api_key"].strip(),
                                           fields.get("validate") == "on")
    except (InvalidInput, UpstreamUnavailable) as exc:
        return await page(call, errors=[{"field": "api_key", "message": exc.message}], status=422)
    return redirect("/settings#integrations")


async def delete_integration(call: Call[None]) -> Response:
    provider = call.path["provider"].lower()
    if provider not in integrations.PROVIDERS:
        raise InvalidInput.field("provider", f"must be one of {', '.join(integrations.PROVIDERS)}")
    await integrations.delete_integration(call.deps, call.workspace_id, provider)
    return redirect("/settings#integrations")


async def invite(call: Call[None]) -> Response:
    fields = await form(call)
    assert call.principal is not None
    body, errors = validated(InviteCreate, filled(fields, "email", "role"))
    if body is None:
        return await page(call, errors=errors, status=422)
    try:
        await members.invite(call.deps, call.principal, body.email, body.role)
    except DomainError as exc:
        return await page(call, errors=[{"field": "email", "message": exc.message}], status=409)
    return redirect("/settings#members")


async def remove_member(call: Call[None]) -> Response:
    fields = await form(call)
    assert call.principal is not None
    named = filled(fields, "email", "user_id", "invite_id")
    if not named:
        raise InvalidInput.field("email", "name the member or invite to remove")
    await members.remove(call.deps, call.principal, named)
    return redirect("/settings#members")
