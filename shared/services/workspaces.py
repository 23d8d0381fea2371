"""Workspaces, their plan, and the entitlements a plan grants."""

from __future__ import annotations

import hashlib
from typing import Literal

from shared.ports import Deps
from shared.errors import EntitlementRequired, InvalidInput, NotFoundError
from shared.ports import AlreadyExists, Data
from shared.services.records import WORKSPACE_NAMES, WORKSPACES, now_iso

Plan = Literal["free", "pro"]
FREE_MAX_CANDIDATES = 3
# What the free plan may not do; `pro` (the self-hosting default) may do everything.
FREE_PLAN_BLOCKS = {
    "delete_leaderboard": "Deleting leaderboards",
    "more_candidates": f"More than {FREE_MAX_CANDIDATES} candidate models on one leaderboard",
    "schedules": "Schedules",
}


def _name_key(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()


async def create_workspace(deps: Deps, name: str, plan: Plan | None = None) -> Data:
    """A new workspace; names are unique, so an existing name is refused."""
    name = name.strip()
    if not name or len(name) > 200:
        raise InvalidInput.field("name", "must be 1 to 200 characters")
    workspace_id = deps.ids.new_id()
    try:
        await deps.documents.create(WORKSPACE_NAMES, _name_key(name), {"workspace_id": workspace_id})
    except AlreadyExists:
        raise InvalidInput.field("name", f"a workspace named {name!r} exists") from None
    data = {
        "id": workspace_id, "name": name, "plan": plan or deps.settings.default_plan,
        "created_at": now_iso(deps),
    }
    await deps.documents.create(WORKSPACES, workspace_id, data)
    return data


async def find_workspace(deps: Deps, name: str) -> Data | None:
    """The workspace with this name, if any."""
    pointer = await deps.documents.get(WORKSPACE_NAMES, _name_key(name.strip()))
    if pointer is None:
        return None
    doc = await deps.documents.get(WORKSPACES, pointer.data["workspace_id"])
    return doc.data if doc else None


async def get_workspace(deps: Deps, workspace_id: str) -> Data:
    doc = await deps.documents.get(WORKSPACES, workspace_id)
    if doc is None:
        raise NotFoundError("Workspace not found.")
    return doc.data


async def require_entitlement(deps: Deps, workspace_id: str, feature: str) -> None:
    """Raise EntitlementRequired when the workspace's plan does not include `feature`."""
    workspace = await get_workspace(deps, workspace_id)
    if workspace.get("plan") == "free" and feature in FREE_PLAN_BLOCKS:
        raise EntitlementRequired(
            f"{FREE_PLAN_BLOCKS[feature]} needs the pro plan; this workspace is on free."
        )
