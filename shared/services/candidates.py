"""Candidate models of a leaderboard: add, list, change, remove; tokens sealed at rest."""

from __future__ import annotations

from shared.auth.secrets import redact
from shared.domain.leaderboard import Candidate, Leaderboard
from shared.domain.times import iso
from shared.errors import ConflictError, InvalidInput
from shared.ports import Deps
from shared.schemas.candidates import CandidateCreate, CandidateUpdate
from shared.services.local_models import checked_local_model
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
    own = body.platform == "Dr.Gero"
    model_url = checked_local_model(deps, "model_url", body.model_url) if body.platform == "Local" else body.model_url
    candidate = Candidate(
        id=deps.ids.new_id(), workspace_id=workspace_id, leaderboard_id=leaderboard_id, name=body.name,
        platform=body.platform, model_url=None if own else model_url, model_id=body.model_id if own else None,
        auth_type=body.auth_type, auth_header_name=body.auth_header_name, **_sealed(deps, body.token),
        created_at=iso(deps.clock.now()))
    candidate.check(deps.settings.allow_private_urls)
    await _check_own_model(deps, candidate)
    _refuse_duplicate(candidate, existing)
    return await Candidates(deps.documents).create(candidate)


async def change_candidate(deps: Deps, workspace_id: str, leaderboard_id: str, candidate_id: str,
                           body: CandidateUpdate) -> Candidate:
    """Apply the given fields and validate the candidate as adding it would, as of its latest stored version."""
    board = await Leaderboards(deps.documents).get_owned(leaderboard_id, workspace_id)
    candidates = Candidates(deps.documents)
    current = await candidates.get_on(candidate_id, board)
    changes = body.given()
    if current.platform == "Local" and "model_url" in changes:
        changes["model_url"] = checked_local_model(deps, "model_url", changes["model_url"])
    if "token" in changes:
        changes.update(_sealed(deps, changes.pop("token")))
    allow_private = deps.settings.allow_private_urls
    # The duplicate check looks at the other candidates, so it runs before the save rather than inside it.
    _refuse_duplicate(current.model_copy(update=changes).check(allow_private), await candidates.of(board))

    def apply(candidate: Candidate) -> None:
        for name, value in changes.items():
            setattr(candidate, name, value)
        candidate.check(allow_private)  # again: a change saved meanwhile may have altered what this one relies on

    return await candidates.change(candidate_id, apply, workspace_id=workspace_id)


def _sealed(deps: Deps, token: str | None) -> dict[str, str | None]:
    """How a token is stored: sealed, plus the hint answers show; no token clears both."""
    return {"token_sealed": deps.sealer.seal(token) if token else None, "token_hint": redact(token)}


async def _check_own_model(deps: Deps, candidate: Candidate) -> None:
    if candidate.platform != "Dr.Gero":
        return
    model = await OwnModels(deps.documents).get(candidate.model_id or "")
    if model is None or model.workspace_id != candidate.workspace_id:
        raise InvalidInput.field("model_id", "is not a model of this workspace")


def _refuse_duplicate(candidate: Candidate, on_board: list[Candidate]) -> None:
    if any(other.id != candidate.id and other.identity == candidate.identity for other in on_board):
        raise ConflictError("This model is already a candidate of the leaderboard.", code="duplicate_candidate")


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
