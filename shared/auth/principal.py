"""The authenticated caller of a request."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal


@dataclass(frozen=True)
class Principal:
    """A caller bound to one workspace; `leaderboard_id` narrows push tokens to one leaderboard."""

    workspace_id: str
    kind: Literal["api_token", "push_token", "session", "user", "cron", "task"]
    scopes: frozenset[str] = field(default_factory=frozenset)
    credential_id: str = ""
    leaderboard_id: str | None = None
    role: str | None = None  # a session's role in the workspace: owner, admin or member
    email: str | None = None  # a session's verified email, which its invites are addressed to
