"""Resource API family: leaderboards, candidate models, own models, base models."""

from __future__ import annotations

from typing import Any

from functions.resource_datasets import ROUTES as DATASET_ROUTES
from functions.resource_fine_tunes import ROUTES as FINE_TUNE_ROUTES
from functions.resource_runs import ROUTES as RUN_ROUTES
from functions.runtime_datasets import push_route
from shared.auth import scopes as S
from shared.domain.leaderboard import Candidate
from shared.http.routes import Call, Family, Route
from shared.schemas.candidates import CandidateCreate, CandidatePublic, CandidateUpdate
from shared.schemas.common import Deleted, Page, PageQuery
from shared.schemas.leaderboards import LeaderboardCreate, LeaderboardDetail, LeaderboardPublic, LeaderboardUpdate
from shared.schemas.models import BaseModelList, LeaderboardRef, ModelCreate, ModelPublic, ModelUpdate
from shared.services import base_models, candidates, leaderboards, models


async def list_leaderboards(call: Call[None]) -> dict[str, Any]:
    items, total = await leaderboards.list_leaderboards(call.deps, call.workspace_id, call.query.limit, call.query.offset)
    return Page.of(items, total, call.query)


async def create_leaderboard(call: Call[LeaderboardCreate]) -> dict[str, Any]:
    created = await leaderboards.create_leaderboard(call.deps, call.workspace_id, call.body)
    return await leaderboards.leaderboard_detail(call.deps, call.workspace_id, created.id)


async def get_leaderboard(call: Call[None]) -> dict[str, Any]:
    return await leaderboards.leaderboard_detail(call.deps, call.workspace_id, call.path["leaderboard_id"])


async def update_leaderboard(call: Call[LeaderboardUpdate]) -> dict[str, Any]:
    lid = call.path["leaderboard_id"]
    await leaderboards.update_leaderboard(call.deps, call.workspace_id, lid, call.body)
    return await leaderboards.leaderboard_detail(call.deps, call.workspace_id, lid)


async def delete_leaderboard(call: Call[None]) -> dict[str, Any]:
    await leaderboards.delete_leaderboard(call.deps, call.workspace_id, call.path["leaderboard_id"])
    return {"id": call.path["leaderboard_id"], "deleted": True}


async def list_candidates(call: Call[None]) -> dict[str, Any]:
    items = await candidates.list_candidates(call.deps, call.workspace_id, call.path["leaderboard_id"])
    return Page.window(items, call.query)


async def add_candidate(call: Call[CandidateCreate]) -> Candidate:
    return await candidates.add_candidate(call.deps, call.workspace_id, call.path["leaderboard_id"], call.body)


async def change_candidate(call: Call[CandidateUpdate]) -> Candidate:
    lid, cid = call.path["leaderboard_id"], call.path["leaderboard_model_id"]
    return await candidates.change_candidate(call.deps, call.workspace_id, lid, cid, call.body)


async def remove_candidate(call: Call[None]) -> dict[str, Any]:
    lid, cid = call.path["leaderboard_id"], call.path["leaderboard_model_id"]
    await candidates.remove_candidate(call.deps, call.workspace_id, lid, cid)
    return {"id": cid, "deleted": True}


async def list_models(call: Call[None]) -> dict[str, Any]:
    items, total = await models.list_models(call.deps, call.workspace_id, call.query.limit, call.query.offset)
    return Page.of(items, total, call.query)


async def create_model(call: Call[ModelCreate]) -> dict[str, Any]:
    return await models.create_model(call.deps, call.workspace_id, call.body)


async def get_model(call: Call[None]) -> dict[str, Any]:
    return await models.get_model(call.deps, call.workspace_id, call.path["model_id"])


async def update_model(call: Call[ModelUpdate]) -> dict[str, Any]:
    return await models.update_model(call.deps, call.workspace_id, call.path["model_id"], call.body)


async def delete_model(call: Call[None]) -> dict[str, Any]:
    await models.delete_model(call.deps, call.workspace_id, call.path["model_id"])
    return {"id": call.path["model_id"], "deleted": True}


async def model_leaderboards(call: Call[None]) -> dict[str, Any]:
    items = await models.model_leaderboards(call.deps, call.workspace_id, call.path["model_id"])
    return Page.window(items, call.query)


async def list_base_models(call: Call[None]) -> dict[str, Any]:
    offered, source = await base_models.offered(call.deps)
    return {"data": offered, "count": len(offered), "source": source}


LB = "/api/leaderboards/{leaderboard_id}"
ROUTES = [
    Route("GET", "/api/leaderboards", list_leaderboards, "List leaderboards",
          scopes=(S.LEADERBOARDS_READ,), query=PageQuery, response=Page[LeaderboardPublic]),
    Route("POST", "/api/leaderboards", create_leaderboard, "Create a leaderboard",
          scopes=(S.LEADERBOARDS_WRITE,), body=LeaderboardCreate, response=LeaderboardDetail, status=201),
    Route("GET", LB, get_leaderboard, "Get leaderboard detail",
          scopes=(S.LEADERBOARDS_READ,), response=LeaderboardDetail),
    Route("PATCH", LB, update_leaderboard, "Update a leaderboard",
          scopes=(S.LEADERBOARDS_WRITE,), body=LeaderboardUpdate, response=LeaderboardDetail, errors=(409,)),
    Route("DELETE", LB, delete_leaderboard, "Delete a leaderboard (pro plan)",
          scopes=(S.LEADERBOARDS_WRITE,), response=Deleted),
    Route("GET", f"{LB}/models", list_candidates, "List candidate models",
          scopes=(S.LEADERBOARDS_READ,), query=PageQuery, response=Page[CandidatePublic]),
    Route("POST", f"{LB}/models", add_candidate, "Add a candidate model",
          scopes=(S.LEADERBOARDS_WRITE,), body=CandidateCreate, response=CandidatePublic, status=201,
          errors=(409,)),
    Route("PATCH", f"{LB}/models/{{leaderboard_model_id}}", change_candidate, "Change a candidate model",
          scopes=(S.LEADERBOARDS_WRITE,), body=CandidateUpdate, response=CandidatePublic, errors=(409,)),
    Route("DELETE", f"{LB}/models/{{leaderboard_model_id}}", remove_candidate, "Remove a candidate model",
          scopes=(S.LEADERBOARDS_WRITE,), response=Deleted),
    Route("GET", "/api/models", list_models, "List own models",
          scopes=(S.MODELS_READ,), query=PageQuery, response=Page[ModelPublic]),
    Route("POST", "/api/models", create_model, "Create an own model",
          scopes=(S.MODELS_WRITE,), body=ModelCreate, response=ModelPublic, status=201),
    Route("GET", "/api/models/{model_id}", get_model, "Get an own model",
          scopes=(S.MODELS_READ,), response=ModelPublic),
    Route("PATCH", "/api/models/{model_id}", update_model, "Update an own model",
          scopes=(S.MODELS_WRITE,), body=ModelUpdate, response=ModelPublic),
    Route("DELETE", "/api/models/{model_id}", delete_model, "Delete an own model",
          scopes=(S.MODELS_WRITE,), response=Deleted, errors=(409,)),
    Route("GET", "/api/models/{model_id}/leaderboards", model_leaderboards,
          "List leaderboards where the model is a candidate",
          scopes=(S.MODELS_READ,), query=PageQuery, response=Page[LeaderboardRef]),
    Route("GET", "/api/base-models", list_base_models,
          "List the base models the fine-tuning backend can fine-tune (or the built-in list)",
          scopes=(S.MODELS_READ,), response=BaseModelList),
    # The seed's alias of the runtime push endpoint: the same handler under the resource paths.
    push_route(f"{LB}/dataset/push"),
    *RUN_ROUTES,
    *DATASET_ROUTES,
    *FINE_TUNE_ROUTES,
]
FAMILY = Family("resource_api", "Leaderboards, candidate models and own models; API token.", ROUTES)
