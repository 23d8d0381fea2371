"""Workspaces and the credentials that act in them: API tokens and push tokens (stored as hashes)."""

from __future__ import annotations

from typing import Any

from shared.domain.aggregate import Aggregate


class Workspace(Aggregate):
    name: str
    plan: str  # free or pro
    created_at: str


class ApiToken(Aggregate):
    workspace_id: str
    name: str
    scopes: list[str]
    token_hash: str
    display_prefix: str  # enough of the token for a person to recognise it
    created_at: str
    revoked_at: str | None = None
    last_used_at: str | None = None
    # Who made it: a member's user id, or "cli". Removing that member revokes their tokens.
    created_by: str | None = None


class PushToken(Aggregate):
    """A webhook credential that can push to its one leaderboard and do nothing else."""

    workspace_id: str
    leaderboard_id: str
    name: str
    token_hash: str
    display_prefix: str
    created_at: str
    revoked_at: str | None = None


class Member(Aggregate):
    """A user (a Supabase `sub`) in a workspace, with a role: owner, admin or member."""

    workspace_id: str
    user_id: str
    email: str
    role: str
    invited_by: str | None = None
    created_at: str


class Invite(Aggregate):
    """An email waiting to join a workspace with a role; it lapses at `expires_at`."""

    workspace_id: str
    email: str
    role: str
    invited_by: str | None = None
    created_at: str
    expires_at: str | None = None

    def lapsed(self, now: str) -> bool:
        return bool(self.expires_at) and self.expires_at <= now


class Integration(Aggregate):
    """A workspace's key for a provider, sealed at rest; `id` is "<workspace id>.<provider>"."""

    workspace_id: str
    provider: str  # openrouter or huggingface
    key_sealed: str
    key_hint: str | None = None
    account: dict[str, Any] | None = None  # what the provider said of the key when it was checked
    validated: bool = False
    updated_at: str

    @staticmethod
    def id_for(workspace_id: str, provider: str) -> str:
        return f"{workspace_id}.{provider}"
