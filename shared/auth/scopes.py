"""API token scopes. Which route needs which is declared in each family's route table."""

from __future__ import annotations

LEADERBOARDS_READ = "leaderboards:read"
LEADERBOARDS_WRITE = "leaderboards:write"
LEADERBOARDS_RUN = "leaderboards:run"
MODELS_READ = "models:read"
MODELS_WRITE = "models:write"
TRACES_READ = "traces:read"
INFERENCE = "inference"

ALL_SCOPES: tuple[str, ...] = (
    LEADERBOARDS_READ, LEADERBOARDS_WRITE, LEADERBOARDS_RUN,
    MODELS_READ, MODELS_WRITE, TRACES_READ, INFERENCE,
)

# What a browser session may do follows from the user's role in the workspace; API tokens
# can never hold these.
WORKSPACE_MEMBER = "workspace:member"
WORKSPACE_ADMIN = "workspace:admin"
ROLES = ("owner", "admin", "member")
ROLE_SCOPES: dict[str, frozenset[str]] = {
    "owner": frozenset({WORKSPACE_MEMBER, WORKSPACE_ADMIN}),
    "admin": frozenset({WORKSPACE_MEMBER, WORKSPACE_ADMIN}),
    "member": frozenset({WORKSPACE_MEMBER}),
}


def parse_scopes(text: str) -> list[str]:
    """Parse `a,b,c` or `all`; raises ValueError naming any unknown scope."""
    if text.strip() == "all":
        return list(ALL_SCOPES)
    scopes = [part.strip() for part in text.split(",") if part.strip()]
    unknown = sorted(set(scopes) - set(ALL_SCOPES))
    if unknown or not scopes:
        raise ValueError(f"unknown scopes {unknown}; choose from {', '.join(ALL_SCOPES)} or 'all'")
    return list(dict.fromkeys(scopes))
