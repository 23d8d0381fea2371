"""Push tokens (`hpd_...`): webhook credentials that can only push to one leaderboard.

Shown once at creation and stored as a hash, like API tokens. A push token grants
nothing else: no reads, no other leaderboard, no other route.
"""

from __future__ import annotations

from shared.auth.principal import Principal
from shared.auth.secrets import new_token, same_secret, token_hash
from shared.domain.times import iso
from shared.domain.workspace import PushToken
from shared.errors import Unauthenticated
from shared.ports import Deps
from shared.stores.push_datasets import PushTokens

PUSH_TOKEN_PREFIX = "hpd_"


async def create_push_token(deps: Deps, workspace_id: str, leaderboard_id: str, name: str) -> tuple[str, PushToken]:
    """A new push token for the leaderboard; the plain value is returned once and never stored."""
    token = new_token(PUSH_TOKEN_PREFIX)
    record = PushToken(id=deps.ids.new_id(), workspace_id=workspace_id, leaderboard_id=leaderboard_id, name=name,
                       token_hash=token_hash(token), display_prefix=token[: len(PUSH_TOKEN_PREFIX) + 4],
                       created_at=iso(deps.clock.now()))
    return token, await PushTokens(deps.documents).create(record)


async def count_active_push_tokens(deps: Deps, leaderboard_id: str) -> int:
    return await deps.documents.count(PushTokens(deps.documents).active(leaderboard_id))


async def revoke_push_tokens(deps: Deps, leaderboard_id: str) -> int:
    """Revoke every active push token of the leaderboard; returns how many were revoked."""
    tokens = PushTokens(deps.documents)
    revoked_at = iso(deps.clock.now())
    active = await deps.documents.query(tokens.active(leaderboard_id))
    for doc in active:
        await tokens.update(doc.id, {"revoked_at": revoked_at})
    return len(active)


async def authenticate_push_token(deps: Deps, token: str) -> Principal:
    """The principal of a push token: its workspace, narrowed to its one leaderboard."""
    digest = token_hash(token)
    tokens = PushTokens(deps.documents)
    found = await tokens.find({"token_hash": digest}, order=())  # plain filter: cached per instance
    if not found or found[0].revoked_at or not same_secret(found[0].token_hash, digest):
        raise Unauthenticated("The push token is invalid or revoked.", code="invalid_token")
    record = found[0]
    return Principal(workspace_id=record.workspace_id, kind="push_token", credential_id=record.id,
                     leaderboard_id=record.leaderboard_id)
