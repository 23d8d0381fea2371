"""API tokens: created shown-once, stored as hashes, resolved to a Principal per request."""

from __future__ import annotations

from shared.auth.principal import Principal
from shared.auth.scopes import ALL_SCOPES
from shared.auth.secrets import new_token, same_secret, token_hash
from shared.bootstrap import Deps
from shared.errors import InvalidInput, Unauthenticated
from shared.ports import Data, Query
from shared.services.records import API_TOKENS, now_iso

TOKEN_PREFIX = "drgero_"


async def create_api_token(deps: Deps, workspace_id: str, name: str, scopes: list[str]) -> tuple[str, Data]:
    """Make a token; the plain value is returned once and never stored."""
    unknown = sorted(set(scopes) - set(ALL_SCOPES))
    if unknown or not scopes:
        raise InvalidInput.field("scopes", f"unknown or empty scopes: {unknown}")
    token = new_token(TOKEN_PREFIX)
    record = {
        "id": deps.ids.new_id(), "workspace_id": workspace_id, "name": name,
        "scopes": sorted(set(scopes)), "token_hash": token_hash(token),
        "display_prefix": token[: len(TOKEN_PREFIX) + 4], "created_at": now_iso(deps),
        "revoked_at": None, "last_used_at": None,
    }
    await deps.documents.create(API_TOKENS, record["id"], record)
    return token, record


async def authenticate_api_token(deps: Deps, token: str) -> Principal:
    """The principal for a bearer token, or Unauthenticated."""
    if not token.startswith(TOKEN_PREFIX):
        raise Unauthenticated("Expected a Dr.Gero API token (drgero_...).", code="invalid_token")
    digest = token_hash(token)
    found = await deps.documents.query(Query(API_TOKENS, where={"token_hash": digest}, limit=1))
    if not found or found[0].data.get("revoked_at") or not same_secret(found[0].data["token_hash"], digest):
        raise Unauthenticated("The API token is invalid or revoked.", code="invalid_token")
    record = found[0].data
    return Principal(
        workspace_id=record["workspace_id"], kind="api_token",
        scopes=frozenset(record["scopes"]), credential_id=record["id"],
    )
