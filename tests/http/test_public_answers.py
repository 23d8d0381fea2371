"""Answers carry what their schema declares and nothing else: no sealed secret, no bookkeeping."""

from __future__ import annotations

import asyncio
import typing

import httpx
from pydantic import BaseModel, RootModel
from starlette.requests import Request

from functions.families import FAMILIES
from shared.http.dispatch import Dispatcher
from shared.http.routes import Route
from shared.schemas.common import Deleted
from tests.factories import openrouter_candidate, push_leaderboard

SCHEDULE = {"version": 2, "triggers": {"cron": {"enabled": True, "preset": "DAILY"}}}
INTERNAL = ("token_sealed", "schedule_due", "schedule_rows_seen", "schedule_model_versions", "workspace_id",
            "latest_ranking")


async def test_candidates_and_leaderboards_never_show_sealed_tokens_or_bookkeeping(client, tenants):
    writer = await tenants.headers("acme")
    reader = await tenants.headers("acme", scopes=("leaderboards:read",))
    board = (await client.post("/api/leaderboards", json=push_leaderboard(schedule=SCHEDULE),
                               headers=writer)).json()["leaderboard"]["id"]
    added = await client.post(f"/api/leaderboards/{board}/models", headers=writer,
                              json=openrouter_candidate(token="sk-or-secret-value-1234"))
    answers = [added,
               await client.get(f"/api/leaderboards/{board}/models", headers=reader),
               await client.get(f"/api/leaderboards/{board}", headers=reader),
               await client.get("/api/leaderboards", headers=reader)]
    for answer in answers:
        assert answer.status_code in (200, 201), answer.text
        for name in INTERNAL:
            assert f'"{name}"' not in answer.text, (name, answer.request.url)
        assert "sk-or-secret-value" not in answer.text
    assert added.json()["token"].endswith("1234") and added.json()["has_token"] is True


def _models_in(annotation) -> list[type[BaseModel]]:
    """Every pydantic model an annotation names, however nested (lists, unions, generics)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [model for argument in typing.get_args(annotation) for model in _models_in(argument)]


def test_every_answer_schema_forbids_what_it_does_not_declare():
    seen, todo = set(), [route.response for family in FAMILIES for route in family.routes if route.response]
    while todo:
        model = todo.pop()
        if model in seen or issubclass(model, RootModel):
            continue
        seen.add(model)
        assert model.model_config.get("extra") == "forbid", model.__name__
        todo += [nested for field in model.model_fields.values() for nested in _models_in(field.annotation)]
    assert len(seen) > 30


async def test_an_answer_carrying_an_undeclared_field_is_a_server_error_not_a_leak(deps):
    async def leaky(call):
        return {"id": "c", "deleted": True, "token_sealed": "gAAAA..."}

    dispatch = Dispatcher([Route("GET", "/leaky", leaky, "leaks", auth="none", response=Deleted)],
                          lambda: asyncio.sleep(0, deps))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=_app(dispatch)), base_url="http://t") as client:
        answer = await client.get("/leaky")
    assert answer.status_code == 500 and "gAAAA" not in answer.text


def _app(dispatch):
    async def app(scope, receive, send):
        response = await dispatch(Request(scope, receive))
        await response(scope, receive, send)

    return app
