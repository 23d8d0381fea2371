"""API tokens: created shown-once, stored as hashes, resolved to a Principal per request."""

from __future__ import annotations

from shared.auth.principal import Principal
from shared.auth.scopes import ALL_SCOPES
from shared.auth.secrets import new_token, same_secret, token_hash
from shared.domain.times import iso, parse_iso
from shared.domain.workspace import ApiToken
from shared.errors import InvalidInput, Unauthenticated
from shared.ports import Deps
from shared.stores.workspaces import ApiTokens

TOKEN_PREFIX = "drgero_"
# `last_used_at` is refreshed at most this often per token, so busy tokens do not turn
# every request into a document write.
LAST_USED_RESOLUTION_SECONDS = 60


async def create_api_token(deps: Deps, workspace_id: str, name: str, scopes: list[str],
                           created_by: str | None = None) -> tuple[str, ApiToken]:
    """Make a token; the plain value is returned once and never stored."""
    unknown = sorted(set(scopes) - set(ALL_SCOPES))
    if unknown or not scopes:
        raise InvalidInput.field("scopes", f"unknown or empty scopes: {unknown}")
    token = new_token(TOKEN_PREFIX)
    record = ApiToken(id=deps.ids.new_id(), workspace_id=workspace_id, name=name, scopes=sorted(set(scopes)),
                      token_hash=token_hash(token), display_prefix=token[: len(TOKEN_PREFIX) + 4],
                      created_at=iso(deps.clock.now()), created_by=created_by)
    return token, await ApiTokens(deps.documents).create(record)


async def authenticate_api_token(deps: Deps, token: str) -> Principal:
    """The principal for a bearer token, or Unauthenticated."""
    if not token.startswith(TOKEN_PREFIX):
        raise Unauthenticated("Expected a Dr.Gero API token (drgero_...).", code="invalid_token")
    digest = token_hash(token)
    tokens = ApiTokens(deps.documents)
    found = await tokens.find({"token_hash": digest}, order=())  # plain filter: cached per instance
    if not found or found[0].revoked_at or not same_secret(found[0].token_hash, digest):
        raise Unauthenticated("The API token is invalid or revoked.", code="invalid_token")
    record = found[0]
    await _touch(deps, tokens, record)
    return Principal(workspace_id=record.workspace_id, kind="api_token", scopes=frozenset(record.scopes),
                     credential_id=record.id)


async def _touch(deps: Deps, tokens: ApiTokens, record: ApiToken) -> None:
    now = deps.clock.now()
    if record.last_used_at is None or (now - parse_iso(record.last_used_at)).total_seconds() >= \
            LAST_USED_RESOLUTION_SECONDS:
        await tokens.update(record.id, {"last_used_at": iso(now)})


async def list_api_tokens(deps: Deps, workspace_id: str, limit: int, offset: int) -> tuple[list[ApiToken], int]:
    return await ApiTokens(deps.documents).page({"workspace_id": workspace_id}, limit, offset)


async def revoke_api_token(deps: Deps, workspace_id: str, token_id: str) -> ApiToken:
    """Revoke now: the next request with the token gets 401. Revoking twice keeps the first time."""
    revoked_at = iso(deps.clock.now())

    def revoke(record: ApiToken) -> None:
        record.revoked_at = record.revoked_at or revoked_at

    return await ApiTokens(deps.documents).change(token_id, revoke, workspace_id=workspace_id)


async def revoke_tokens_of(deps: Deps, workspace_id: str, user_id: str) -> int:
    """Revoke every live token the user created in the workspace (when they leave it); how many."""
    tokens, revoked_at = ApiTokens(deps.documents), iso(deps.clock.now())
    live = await tokens.find({"workspace_id": workspace_id, "created_by": user_id, "revoked_at": None}, order=())
    for record in live:
        await tokens.change(record.id, lambda current: setattr(current, "revoked_at", current.revoked_at or revoked_at))
    return len(live)


async def delete_api_token(deps: Deps, workspace_id: str, token_id: str) -> None:
    tokens = ApiTokens(deps.documents)
    await tokens.get_owned(token_id, workspace_id)
    await tokens.delete(token_id)
