"""Workspaces (with their unique names) and API tokens."""

from __future__ import annotations

import hashlib

from shared.domain.workspace import ApiToken, Integration, Invite, Member, Workspace
from shared.errors import InvalidInput
from shared.ports import AlreadyExists
from shared.stores.base import Store

# A name -> id index kept in its own documents, so two workspaces can never share a name.
NAMES = "workspace_names"


def _name_key(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()


class Workspaces(Store[Workspace]):
    collection, aggregate, label = "workspaces", Workspace, "Workspace"

    async def create(self, new: Workspace) -> Workspace:
        """Claim the name first (create-only), then store the workspace; a taken name is refused."""
        try:
            await self.documents.create(NAMES, _name_key(new.name), {"workspace_id": new.id})
        except AlreadyExists:
            raise InvalidInput.field("name", f"a workspace named {new.name!r} exists") from None
        return await super().create(new)

    async def named(self, name: str) -> Workspace | None:
        pointer = await self.documents.get(NAMES, _name_key(name.strip()))
        return await self.get(pointer.data["workspace_id"]) if pointer else None


class ApiTokens(Store[ApiToken]):
    collection, aggregate, label = "api_tokens", ApiToken, "API token"


class Members(Store[Member]):
    collection, aggregate, label = "memberships", Member, "Member"


class Invites(Store[Invite]):
    collection, aggregate, label = "invites", Invite, "Invite"


# Each workspace's owner user ids in one document: every owner change goes through it in a
# transaction, so concurrent changes cannot leave a workspace without an owner.
OWNERS = "workspace_owners"


class Integrations(Store[Integration]):
    collection, aggregate, label = "integrations", Integration, "Integration"
