"""Own (Dr.Gero) models: the workspace's fine-tunable models that compete as candidates."""

from __future__ import annotations

from shared.ports import Deps
from shared.domain.base_models import BASE_MODEL_IDS
from shared.errors import ConflictError, InvalidInput
from shared.ports import Data
from shared.schemas.models import ModelCreate, ModelUpdate
from shared.services.records import CANDIDATES, LEADERBOARDS, MODELS, all_of, get_owned, now_iso, page


async def create_model(deps: Deps, workspace_id: str, body: ModelCreate) -> Data:
    if body.base_model not in BASE_MODEL_IDS:
        raise InvalidInput.field("base_model", "is not a supported base model; see GET /api/base-models")
    now = now_iso(deps)
    data = {
        **body.model_dump(), "id": deps.ids.new_id(), "workspace_id": workspace_id, "status": "draft",
        "version": 0, "endpoint_url": None, "fine_tuned_model": None, "created_at": now, "updated_at": now,
    }
    await deps.documents.create(MODELS, data["id"], data)
    return data


async def get_model(deps: Deps, workspace_id: str, model_id: str) -> Data:
    return await get_owned(deps, MODELS, model_id, workspace_id, "Model")


async def list_models(deps: Deps, workspace_id: str, limit: int, offset: int) -> tuple[list[Data], int]:
    return await page(deps, MODELS, {"workspace_id": workspace_id}, limit, offset)


async def update_model(deps: Deps, workspace_id: str, model_id: str, body: ModelUpdate) -> Data:
    await get_model(deps, workspace_id, model_id)
    changes = {**body.given(), "updated_at": now_iso(deps)}
    if changes.get("name") is None:
        changes.pop("name", None)
    return (await deps.documents.update(MODELS, model_id, changes)).data


async def model_leaderboards(deps: Deps, workspace_id: str, model_id: str) -> list[Data]:
    """The leaderboards where this model is a candidate, with the candidate's id."""
    await get_model(deps, workspace_id, model_id)
    uses = await all_of(deps, CANDIDATES, {"workspace_id": workspace_id, "model_id": model_id})
    found = []
    for use in uses:
        board = await deps.documents.get(LEADERBOARDS, use["leaderboard_id"])
        if board is not None:
            found.append({"id": board.id, "name": board.data["name"], "leaderboard_model_id": use["id"]})
    return found


async def delete_model(deps: Deps, workspace_id: str, model_id: str) -> None:
    """Delete a model that no leaderboard uses; remove it from leaderboards first."""
    in_use = await model_leaderboards(deps, workspace_id, model_id)
    if in_use:
        names = ", ".join(board["name"] for board in in_use[:5])
        raise ConflictError(f"The model is a candidate on: {names}. Remove it there first.", code="model_in_use")
    await deps.documents.delete(MODELS, model_id)
