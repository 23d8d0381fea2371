"""Workspace members and invites, and the browser session that resolves to one of them.

A membership ties a Supabase user (`sub`) to a workspace with a role; an invite holds an
email and a role until the person with that email accepts it (or declines it): nobody joins a
workspace without saying so. A member may leave, except the last owner.
Both use ids derived from their natural key, so concurrent joins and repeated invites
cannot make duplicates.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from shared.auth.principal import Principal
from shared.auth.scopes import ROLE_SCOPES
from shared.auth.sessions import verify_session_token
from shared.domain.times import iso
from shared.domain.workspace import Invite, Member
from shared.errors import ConflictError, InvalidInput, NotFoundError, PermissionDenied
from shared.ports import AlreadyExists, Deps, Transaction
from shared.services import api_tokens
from shared.stores.workspaces import OWNERS, Invites, Members, Workspaces

INVITE_DAYS = 14  # an invite nobody took up by then lapses; inviting again renews it
WORKSPACE_HEADER = "X-Drgero-Workspace"
NO_SUCH_MEMBER = "No such member or pending invite in this workspace."
_KEYS = uuid.UUID("0b7c9a41-8f7e-4b0e-a2f6-51d2e0c3b8a7")


def membership_id(workspace_id: str, user_id: str) -> str:
    return str(uuid.uuid5(_KEYS, f"member:{workspace_id}:{user_id}"))


def invite_id(workspace_id: str, email: str) -> str:
    return str(uuid.uuid5(_KEYS, f"invite:{workspace_id}:{email}"))


async def add_member(deps: Deps, workspace_id: str, user_id: str, email: str, role: str,
                     invited_by: str | None = None) -> Member:
    """Make (or keep) the user a member; an existing membership is returned unchanged."""
    members = Members(deps.documents)
    member = Member(id=membership_id(workspace_id, user_id), workspace_id=workspace_id, user_id=user_id, email=email,
                    role=role, invited_by=invited_by, created_at=iso(deps.clock.now()))

    async def join(tx: Transaction) -> Member:
        existing = await tx.get(members.collection, member.id)
        if existing is not None:
            return members.load(existing)
        if role == "owner":
            owners = await _owners(tx, workspace_id)
            tx.set(OWNERS, workspace_id, {"workspace_id": workspace_id, "user_ids": sorted({*owners, user_id})})
        tx.create(members.collection, member.id, member.stored())
        return member

    return await deps.documents.run_transaction(join)


async def _owners(tx: Transaction, workspace_id: str) -> list[str]:
    """The workspace's owner roster: the one document every owner change goes through."""
    roster = await tx.get(OWNERS, workspace_id)
    return list(roster.data["user_ids"]) if roster is not None else []


async def authenticate_user(deps: Deps, token: str) -> Principal:
    """The session's user, in no workspace yet: for what a person does about their own memberships."""
    claims = await verify_session_token(deps.settings, deps.session_keys, token)
    return Principal(workspace_id="", kind="user", credential_id=str(claims["sub"]),
                     email=str(claims.get("email") or "").strip().lower() or None)


async def authenticate_session(deps: Deps, token: str, workspace_id: str | None) -> Principal:
    """The session's user in the workspace it names (or its only one)."""
    user = await authenticate_user(deps, token)
    user_id = user.credential_id
    memberships = await Members(deps.documents).find({"user_id": user_id})
    if workspace_id:
        chosen = [m for m in memberships if m.workspace_id == workspace_id]
        if not chosen:
            raise NotFoundError("Workspace not found.")
    elif len(memberships) == 1:
        chosen = memberships
    elif not memberships:
        raise PermissionDenied("This user belongs to no workspace yet: accept an invite (GET /api/me lists "
                               "them), or ask an admin for one.", code="no_workspace")
    else:
        raise InvalidInput(
            f"This user belongs to {len(memberships)} workspaces; name one in the {WORKSPACE_HEADER} header.",
            code="workspace_required", details=[{"workspace_id": m.workspace_id} for m in memberships],
        )
    member = chosen[0]
    return Principal(workspace_id=member.workspace_id, kind="session", scopes=ROLE_SCOPES[member.role],
                     credential_id=user_id, role=member.role, email=user.email)


async def members_and_invites(deps: Deps, workspace_id: str) -> dict[str, Any]:
    now = iso(deps.clock.now())
    invites = await Invites(deps.documents).find({"workspace_id": workspace_id})
    return {"members": await Members(deps.documents).find({"workspace_id": workspace_id}),
            "invites": [pending for pending in invites if not pending.lapsed(now)]}


def _check_can_grant(caller: Principal, role: str) -> None:
    if role == "owner" and caller.role != "owner":
        raise PermissionDenied("Only an owner can make or remove owners.", code="insufficient_role")


async def invite(deps: Deps, caller: Principal, email: str, role: str) -> Invite:
    """A pending invite; refused for someone already a member or already invited."""
    _check_can_grant(caller, role)
    email = email.strip().lower()
    if any(m.email == email for m in await Members(deps.documents).find({"workspace_id": caller.workspace_id})):
        raise ConflictError(f"{email} is already a member of this workspace.", code="already_member")
    now = deps.clock.now()
    invites = Invites(deps.documents)
    new = Invite(id=invite_id(caller.workspace_id, email), workspace_id=caller.workspace_id, email=email, role=role,
                 invited_by=caller.credential_id, created_at=iso(now),
                 expires_at=iso(now + timedelta(days=INVITE_DAYS)))
    try:
        await invites.create(new)
    except AlreadyExists:
        pending = await invites.get(new.id)
        if pending is not None and not pending.lapsed(iso(now)):
            raise ConflictError(f"{email} has a pending invite already; revoke it to change the role.",
                                code="already_invited") from None
        await deps.documents.set(invites.collection, new.id, new.stored())  # the old one lapsed: this renews it
    return new


async def remove(deps: Deps, caller: Principal, target: dict[str, str]) -> dict[str, Any]:
    """Revoke a pending invite or remove a member, named by `invite_id`, `user_id` or `email`."""
    workspace_id = caller.workspace_id
    email = (target.get("email") or "").strip().lower()
    invite_key = target.get("invite_id") or (invite_id(workspace_id, email) if email else None)
    invites, members = Invites(deps.documents), Members(deps.documents)
    if invite_key and not target.get("user_id"):
        pending = await invites.get(invite_key)
        if pending is not None and pending.workspace_id == workspace_id:
            await invites.delete(invite_key)
            return {"id": invite_key, "deleted": True, "kind": "invite"}
    found = [m for m in await members.find({"workspace_id": workspace_id})
             if (target.get("user_id") and m.user_id == target["user_id"]) or (email and m.email == email)]
    if not found:
        raise NotFoundError(NO_SUCH_MEMBER)
    member = found[0]
    _check_can_grant(caller, member.role)

    await _remove_member(deps, member)
    # Their tokens would otherwise keep working after they are gone.
    revoked = await api_tokens.revoke_tokens_of(deps, workspace_id, member.user_id)
    return {"id": member.id, "deleted": True, "kind": "member", "tokens_revoked": revoked}



async def _remove_member(deps: Deps, member: Member) -> None:
    members = Members(deps.documents)

    async def drop(tx: Transaction) -> None:
        # Owners leave through the roster in one transaction, so two owners removing each
        # other at once cannot both succeed and leave the workspace without one.
        current = await tx.get(members.collection, member.id)
        if current is None:
            raise NotFoundError(NO_SUCH_MEMBER)
        if current.data["role"] == "owner":
            owners = [u for u in await _owners(tx, member.workspace_id) if u != current.data["user_id"]]
            if not owners:
                raise ConflictError("The last owner cannot be removed; make another owner first.", code="last_owner")
            tx.set(OWNERS, member.workspace_id, {"workspace_id": member.workspace_id, "user_ids": owners})
        tx.delete(members.collection, member.id)

    await deps.documents.run_transaction(drop)


async def my_workspaces_and_invites(deps: Deps, user: Principal) -> dict[str, Any]:
    """The workspaces the user belongs to, and the invites waiting for their answer."""
    workspaces = Workspaces(deps.documents)
    names = {}
    memberships = await Members(deps.documents).find({"user_id": user.credential_id})
    pending = await _my_invites(deps, user)
    for workspace_id in {m.workspace_id for m in memberships} | {i.workspace_id for i in pending}:
        found = await workspaces.get(workspace_id)
        names[workspace_id] = found.name if found else None
    return {"user_id": user.credential_id, "email": user.email,
            "workspaces": [{"workspace_id": m.workspace_id, "name": names[m.workspace_id], "role": m.role}
                           for m in memberships],
            "invites": [{**i.model_dump(include={"id", "workspace_id", "role", "invited_by", "created_at",
                                                 "expires_at"}), "workspace_name": names[i.workspace_id]}
                        for i in pending]}


async def _my_invites(deps: Deps, user: Principal) -> list[Invite]:
    if not user.email:
        return []
    now = iso(deps.clock.now())
    return [i for i in await Invites(deps.documents).find({"email": user.email}, order=()) if not i.lapsed(now)]


async def _my_invite(deps: Deps, user: Principal, invite_id: str) -> Invite:
    """An invite addressed to this user's email and still open; any other answers like a missing one."""
    found = await Invites(deps.documents).get(invite_id)
    if found is None or not user.email or found.email != user.email or found.lapsed(iso(deps.clock.now())):
        raise NotFoundError("No open invite with that id for this user.")
    return found


async def accept_invite(deps: Deps, user: Principal, invite_id: str) -> dict[str, Any]:
    """Join the invite's workspace with its role; the invite is used up."""
    pending = await _my_invite(deps, user, invite_id)
    member = await add_member(deps, pending.workspace_id, user.credential_id, pending.email, pending.role,
                              pending.invited_by)
    await Invites(deps.documents).delete(pending.id)
    workspace = await Workspaces(deps.documents).get(member.workspace_id)
    return {"workspace_id": member.workspace_id, "name": workspace.name if workspace else None, "role": member.role}


async def decline_invite(deps: Deps, user: Principal, invite_id: str) -> None:
    await Invites(deps.documents).delete((await _my_invite(deps, user, invite_id)).id)


async def leave(deps: Deps, user: Principal, workspace_id: str) -> dict[str, Any]:
    """Leave a workspace (not as its last owner); the tokens the user made there are revoked."""
    member = await Members(deps.documents).get(membership_id(workspace_id, user.credential_id))
    if member is None:
        raise NotFoundError("Workspace not found.")
    await _remove_member(deps, member)
    revoked = await api_tokens.revoke_tokens_of(deps, workspace_id, member.user_id)
    return {"id": member.id, "deleted": True, "kind": "member", "tokens_revoked": revoked}
