"""Push tokens (`hpd_...`): webhook credentials that can only push to one leaderboard.

Shown once at creation and stored as a hash, like API tokens. A push token grants
nothing else: no reads, no other leaderboard, no other route.
"""

from __future__ import annotations

from shared.auth.principal import Principal
from shared.auth.secrets import new_token, same_secret, token_hash
from shared.ports import Deps
from shared.errors import Unauthenticated
from shared.ports import Data, Query
from shared.services.records import PUSH_TOKENS, now_iso

PUSH_TOKEN_PREFIX = "hpd_"


async def create_push_token(deps: Deps, workspace_id: str, leaderboard_id: str, name: str) -> tuple[str, Data]:
    """A new push token for the leaderboard; the plain value is returned once and never stored."""
    token = new_token(PUSH_TOKEN_PREFIX)
    record = {
        "id": deps.ids.new_id(), "workspace_id": workspace_id, "leaderboard_id": leaderboard_id,
        "name": name, "token_hash": token_hash(token), "display_prefix": token[: len(PUSH_TOKEN_PREFIX) + 4],
        "created_at": now_iso(deps), "revoked_at": None,
    }
    await deps.documents.create(PUSH_TOKENS, record["id"], record)
    return token, record


def _active(leaderboard_id: str) -> Query:
    return Query(PUSH_TOKENS, where={"leaderboard_id": leaderboard_id, "revoked_at": None})


async def count_active_push_tokens(deps: Deps, leaderboard_id: str) -> int:
    return await deps.documents.count(_active(leaderboard_id))


async def revoke_push_tokens(deps: Deps, leaderboard_id: str) -> int:
    """Revoke every active push token of the leaderboard; returns how many were revoked."""
    revoked_at = now_iso(deps)
    tokens = await deps.documents.query(_active(leaderboard_id))
    for doc in tokens:
        await deps.documents.update(PUSH_TOKENS, doc.id, {"revoked_at": revoked_at})
    return len(tokens)


async def authenticate_push_token(deps: Deps, token: str) -> Principal:
    """The principal of a push token: its workspace, narrowed to its one leaderboard."""
    digest = token_hash(token)
    found = await deps.documents.query(Query(PUSH_TOKENS, where={"token_hash": digest}, limit=1))
    if not found or found[0].data.get("revoked_at") or not same_secret(found[0].data["token_hash"], digest):
        raise Unauthenticated("The push token is invalid or revoked.", code="invalid_token")
    record = found[0].data
    return Principal(workspace_id=record["workspace_id"], kind="push_token", credential_id=record["id"],
                     leaderboard_id=record["leaderboard_id"])
