"""Candidate models of a leaderboard: add, list, remove; tokens sealed at rest."""

from __future__ import annotations

from shared.auth.secrets import redact
from shared.ports import Deps
from shared.domain.urls import unsafe_url_reason
from shared.errors import ConflictError, InvalidInput, NotFoundError
from shared.ports import Data
from shared.schemas.candidates import CandidateCreate
from shared.services.records import CANDIDATES, LEADERBOARDS, MODELS, all_of, get_owned, now_iso
from shared.services.workspaces import FREE_MAX_CANDIDATES, require_entitlement


async def list_candidates(deps: Deps, workspace_id: str, leaderboard_id: str) -> list[Data]:
    await get_owned(deps, LEADERBOARDS, leaderboard_id, workspace_id, "Leaderboard")
    return await all_of(deps, CANDIDATES, {"workspace_id": workspace_id, "leaderboard_id": leaderboard_id})


async def add_candidate(deps: Deps, workspace_id: str, leaderboard_id: str, body: CandidateCreate) -> Data:
    """Validate and attach a candidate; the free plan allows three per leaderboard."""
    existing = await list_candidates(deps, workspace_id, leaderboard_id)
    if len(existing) >= FREE_MAX_CANDIDATES:
        await require_entitlement(deps, workspace_id, "more_candidates")
    await _check_target(deps, workspace_id, body)
    key = (body.platform, body.model_id if body.platform == "Dr.Gero" else body.model_url)
    if any((c["platform"], c["model_id"] if c["platform"] == "Dr.Gero" else c["model_url"]) == key
           for c in existing):
        raise ConflictError("This model is already a candidate of the leaderboard.", code="duplicate_candidate")
    data = {
        "id": deps.ids.new_id(), "workspace_id": workspace_id, "leaderboard_id": leaderboard_id,
        "name": body.name, "platform": body.platform,
        "model_url": body.model_url if body.platform != "Dr.Gero" else None,
        "model_id": body.model_id if body.platform == "Dr.Gero" else None,
        "auth_type": body.auth_type, "auth_header_name": body.auth_header_name,
        "token_sealed": deps.sealer.seal(body.token) if body.token else None,
        "token_hint": redact(body.token), "created_at": now_iso(deps),
    }
    await deps.documents.create(CANDIDATES, data["id"], data)
    return data


async def _check_target(deps: Deps, workspace_id: str, body: CandidateCreate) -> None:
    if body.auth_type == "custom-header" and not body.auth_header_name:
        raise InvalidInput.field("auth_header_name", "required when auth_type is custom-header")
    if body.platform == "Dr.Gero":
        if not body.model_id:
            raise InvalidInput.field("model_id", "required for Dr.Gero models")
        doc = await deps.documents.get(MODELS, body.model_id)
        if doc is None or doc.data["workspace_id"] != workspace_id:
            raise InvalidInput.field("model_id", "is not a model of this workspace")
        return
    if not body.model_url:
        raise InvalidInput.field("model_url", f"required for {body.platform} models")
    if body.platform == "Custom" or body.model_url.startswith(("http://", "https://")):
        reason = unsafe_url_reason(body.model_url, deps.settings.allow_private_urls)
        if reason:
            raise InvalidInput.field("model_url", reason)
    elif any(ch.isspace() for ch in body.model_url):
        raise InvalidInput.field("model_url", "a model id cannot contain spaces")


async def remove_candidate(deps: Deps, workspace_id: str, leaderboard_id: str, candidate_id: str) -> None:
    """Detach a candidate; a leaderboard that had chosen it goes back to no choice."""
    leaderboard = await get_owned(deps, LEADERBOARDS, leaderboard_id, workspace_id, "Leaderboard")
    candidate = await get_owned(deps, CANDIDATES, candidate_id, workspace_id, "Candidate model")
    if candidate["leaderboard_id"] != leaderboard_id:
        raise NotFoundError(f"Candidate model {candidate_id} not found.")
    await deps.documents.delete(CANDIDATES, candidate_id)
    if leaderboard.get("chosen_leaderboard_model_id") == candidate_id:
        await deps.documents.update(LEADERBOARDS, leaderboard_id, {"chosen_leaderboard_model_id": None})


def public(data: Data) -> Data:
    """The candidate as clients see it: token redacted, never the sealed value."""
    return {**data, "token": data.get("token_hint"), "has_token": bool(data.get("token_sealed"))}
