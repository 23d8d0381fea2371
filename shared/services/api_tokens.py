"""API tokens: created shown-once, stored as hashes, resolved to a Principal per request."""

from __future__ import annotations

from shared.auth.principal import Principal
from shared.auth.scopes import ALL_SCOPES
from shared.auth.secrets import new_token, same_secret, token_hash
from shared.ports import Deps
from shared.errors import InvalidInput, Unauthenticated
from shared.ports import Data, Query
from shared.services.records import API_TOKENS, get_owned, iso, now_iso, page, parse_iso

TOKEN_PREFIX = "drgero_"
# `last_used_at` is refreshed at most this often per token, so busy tokens do not turn
# every request into a document write.
LAST_USED_RESOLUTION_SECONDS = 60


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
    await _touch(deps, record)
    return Principal(
        workspace_id=record["workspace_id"], kind="api_token",
        scopes=frozenset(record["scopes"]), credential_id=record["id"],
    )


async def _touch(deps: Deps, record: Data) -> None:
    now = deps.clock.now()
    last = record.get("last_used_at")
    if last is None or (now - parse_iso(last)).total_seconds() >= LAST_USED_RESOLUTION_SECONDS:
        await deps.documents.update(API_TOKENS, record["id"], {"last_used_at": iso(now)})


def public(record: Data) -> Data:
    """What a token list shows: never the secret nor its hash."""
    return {key: record.get(key) for key in (
        "id", "name", "display_prefix", "scopes", "created_at", "last_used_at", "revoked_at")}


async def list_api_tokens(deps: Deps, workspace_id: str, limit: int, offset: int) -> tuple[list[Data], int]:
    items, total = await page(deps, API_TOKENS, {"workspace_id": workspace_id}, limit, offset)
    return [public(item) for item in items], total


async def revoke_api_token(deps: Deps, workspace_id: str, token_id: str) -> Data:
    """Revoke now: the next request with the token gets 401. Revoking twice keeps the first time."""
    record = await get_owned(deps, API_TOKENS, token_id, workspace_id, "API token")
    if record.get("revoked_at"):
        return public(record)
    return public((await deps.documents.update(API_TOKENS, token_id, {"revoked_at": now_iso(deps)})).data)


async def delete_api_token(deps: Deps, workspace_id: str, token_id: str) -> None:
    await get_owned(deps, API_TOKENS, token_id, workspace_id, "API token")
    await deps.documents.delete(API_TOKENS, token_id)
