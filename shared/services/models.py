"""Own (Dr.Gero) models: the workspace's fine-tunable models that compete as candidates."""

from __future__ import annotations

from shared.domain.own_model import OwnModel
from shared.domain.times import iso
from shared.errors import ConflictError
from shared.ports import Data, Deps
from shared.schemas.models import ModelCreate, ModelUpdate
from shared.services import base_models
from shared.stores.leaderboards import Candidates, Leaderboards
from shared.stores.models import OwnModels


async def create_model(deps: Deps, workspace_id: str, body: ModelCreate) -> OwnModel:
    await base_models.require_offered(deps, body.base_model)
    now = iso(deps.clock.now())
    model = OwnModel(**body.model_dump(), id=deps.ids.new_id(), workspace_id=workspace_id, created_at=now,
                     updated_at=now)
    return await OwnModels(deps.documents).create(model)


async def get_model(deps: Deps, workspace_id: str, model_id: str) -> OwnModel:
    return await OwnModels(deps.documents).get_owned(model_id, workspace_id)


async def list_models(deps: Deps, workspace_id: str, limit: int, offset: int) -> tuple[list[OwnModel], int]:
    return await OwnModels(deps.documents).page({"workspace_id": workspace_id}, limit, offset)


async def update_model(deps: Deps, workspace_id: str, model_id: str, body: ModelUpdate) -> OwnModel:
    changes = {name: value for name, value in body.given().items() if not (name == "name" and value is None)}
    updated_at = iso(deps.clock.now())

    def apply(model: OwnModel) -> None:
        for name, value in changes.items():
            setattr(model, name, value)
        model.updated_at = updated_at

    return await OwnModels(deps.documents).change(model_id, apply, workspace_id=workspace_id)


async def model_leaderboards(deps: Deps, workspace_id: str, model_id: str) -> list[Data]:
    """The leaderboards where this model is a candidate, with the candidate's id."""
    await get_model(deps, workspace_id, model_id)
    uses = await Candidates(deps.documents).find({"workspace_id": workspace_id, "model_id": model_id})
    found = []
    for use in uses:
        board = await Leaderboards(deps.documents).get(use.leaderboard_id)
        if board is not None:
            found.append({"id": board.id, "name": board.name, "leaderboard_model_id": use.id})
    return found


async def delete_model(deps: Deps, workspace_id: str, model_id: str) -> None:
    """Delete a model that no leaderboard uses; remove it from leaderboards first."""
    in_use = await model_leaderboards(deps, workspace_id, model_id)
    if in_use:
        names = ", ".join(board["name"] for board in in_use[:5])
        raise ConflictError(f"The model is a candidate on: {names}. Remove it there first.", code="model_in_use")
    await OwnModels(deps.documents).delete(model_id)
