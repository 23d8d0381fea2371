"""Candidate models of a leaderboard: add, list, remove; tokens sealed at rest."""

from __future__ import annotations

from shared.auth.secrets import redact
from shared.domain.leaderboard import Candidate, Leaderboard
from shared.domain.times import iso
from shared.domain.urls import unsafe_url_reason
from shared.errors import ConflictError, InvalidInput
from shared.ports import Deps
from shared.schemas.candidates import CandidateCreate
from shared.services.workspaces import FREE_MAX_CANDIDATES, require_entitlement
from shared.stores.leaderboards import Candidates, Leaderboards
from shared.stores.models import OwnModels


async def list_candidates(deps: Deps, workspace_id: str, leaderboard_id: str) -> list[Candidate]:
    board = await Leaderboards(deps.documents).get_owned(leaderboard_id, workspace_id)
    return await Candidates(deps.documents).of(board)


async def add_candidate(deps: Deps, workspace_id: str, leaderboard_id: str, body: CandidateCreate) -> Candidate:
    """Validate and attach a candidate; the free plan allows three per leaderboard."""
    existing = await list_candidates(deps, workspace_id, leaderboard_id)
    if len(existing) >= FREE_MAX_CANDIDATES:
        await require_entitlement(deps, workspace_id, "more_candidates")
    await _check_target(deps, workspace_id, body)
    own = body.platform == "Dr.Gero"
    candidate = Candidate(
        id=deps.ids.new_id(), workspace_id=workspace_id, leaderboard_id=leaderboard_id, name=body.name,
        platform=body.platform, model_url=None if own else body.model_url, model_id=body.model_id if own else None,
        auth_type=body.auth_type, auth_header_name=body.auth_header_name,
        token_sealed=deps.sealer.seal(body.token) if body.token else None, token_hint=redact(body.token),
        created_at=iso(deps.clock.now()))
    if any(other.identity == candidate.identity for other in existing):
        raise ConflictError("This model is already a candidate of the leaderboard.", code="duplicate_candidate")
    return await Candidates(deps.documents).create(candidate)


async def _check_target(deps: Deps, workspace_id: str, body: CandidateCreate) -> None:
    if body.auth_type == "custom-header" and not body.auth_header_name:
        raise InvalidInput.field("auth_header_name", "required when auth_type is custom-header")
    if body.platform == "Dr.Gero":
        if not body.model_id:
            raise InvalidInput.field("model_id", "required for Dr.Gero models")
        model = await OwnModels(deps.documents).get(body.model_id)
        if model is None or model.workspace_id != workspace_id:
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
    boards = Leaderboards(deps.documents)
    board = await boards.get_owned(leaderboard_id, workspace_id)
    candidates = Candidates(deps.documents)
    await candidates.delete((await candidates.get_on(candidate_id, board)).id)
    if board.chosen_leaderboard_model_id == candidate_id:
        await boards.change(leaderboard_id, _unchoose(candidate_id))


def _unchoose(candidate_id: str):
    def apply(board: Leaderboard) -> None:
        if board.chosen_leaderboard_model_id == candidate_id:
            board.chosen_leaderboard_model_id = None

    return apply
