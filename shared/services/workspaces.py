"""Workspaces, their plan, and the entitlements a plan grants."""

from __future__ import annotations

from typing import Literal

from shared.domain.times import iso
from shared.domain.workspace import Workspace
from shared.errors import EntitlementRequired, InvalidInput, NotFoundError
from shared.ports import Deps
from shared.stores.workspaces import Workspaces

Plan = Literal["free", "pro"]
FREE_MAX_CANDIDATES = 3
# What the free plan may not do; `pro` (the self-hosting default) may do everything.
FREE_PLAN_BLOCKS = {
    "delete_leaderboard": "Deleting leaderboards",
    "more_candidates": f"More than {FREE_MAX_CANDIDATES} candidate models on one leaderboard",
    "schedules": "Schedules",
}


async def create_workspace(deps: Deps, name: str, plan: Plan | None = None) -> Workspace:
    """A new workspace; names are unique, so an existing name is refused."""
    name = name.strip()
    if not name or len(name) > 200:
        raise InvalidInput.field("name", "must be 1 to 200 characters")
    return await Workspaces(deps.documents).create(Workspace(
        id=deps.ids.new_id(), name=name, plan=plan or deps.settings.default_plan, created_at=iso(deps.clock.now())))


async def find_workspace(deps: Deps, name: str) -> Workspace | None:
    """The workspace with this name, if any."""
    return await Workspaces(deps.documents).named(name)


async def get_workspace(deps: Deps, workspace_id: str) -> Workspace:
    found = await Workspaces(deps.documents).get(workspace_id)
    if found is None:
        raise NotFoundError("Workspace not found.")
    return found


async def require_entitlement(deps: Deps, workspace_id: str, feature: str) -> None:
    """Raise EntitlementRequired when the workspace's plan does not include `feature`."""
    workspace = await get_workspace(deps, workspace_id)
    if workspace.plan == "free" and feature in FREE_PLAN_BLOCKS:
        raise EntitlementRequired(
            f"{FREE_PLAN_BLOCKS[feature]} needs the pro plan; this workspace is on free."
        )
