"""Leaderboard pages: the list, create and edit forms, and one leaderboard with its ranking, candidates and runs."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import BaseModel
from starlette.responses import JSONResponse, Response

from functions.console import charts
from functions.console.web import filled, form, redirect, render, validated
from shared.domain.leaderboard import Leaderboard
from shared.errors import DomainError
from shared.http.routes import Call
from shared.schemas.candidates import CandidateCreate, CandidatePublic, CandidateUpdate
from shared.schemas.leaderboards import LeaderboardCreate, LeaderboardPublic, LeaderboardUpdate, RunSummary
from shared.services import candidates, leaderboards, runs, spend
from shared.stores.base import NEWEST_FIRST
from shared.stores.leaderboards import Candidates, Leaderboards
from shared.stores.runs import Runs

PAGE = 50
BOARD_FIELDS = ("name", "description", "dataset_type", "dataset_url", "eval_type", "model_prompt", "system_prompt",
                "category", "judge_model")
PLATFORMS = ("OpenRouter", "Custom", "HuggingFace", "Dr.Gero")


async def list_page(call: Call[None]) -> Response:
    given = call.request.query_params.get("offset", "")
    offset = int(given) if given.isdigit() and len(given) < 8 else 0
    boards, total = await leaderboards.list_leaderboards(call.deps, call.workspace_id, PAGE, offset)
    rows = await asyncio.gather(*(_summary(call, board) for board in boards))
    return render(call, "leaderboards.html", rows=rows, total=total, offset=offset, page=PAGE)


async def _summary(call: Call[Any], board: Leaderboard) -> dict[str, Any]:
    """One line of the list: the board, how many candidates, its last run and the chosen model's name."""
    models = await Candidates(call.deps.documents).of(board)
    last = await Runs(call.deps.documents).find({"leaderboard_id": board.id}, order=NEWEST_FIRST, limit=1)
    names = {c.id: c.name for c in models}
    return {"board": LeaderboardPublic.model_validate(board, from_attributes=True), "candidates": len(models),
            "last_run": RunSummary.model_validate(last[0], from_attributes=True) if last else None,
            "chosen": names.get(board.chosen_leaderboard_model_id or "")}


def _board_form(call: Call[Any], board: Any = None, errors: list[dict[str, str]] = (), values: Any = None,
                status: int = 200) -> Response:
    return render(call, "leaderboard_form.html", status, board=board, errors=list(errors),
                  values=values or {})


async def new_page(call: Call[None]) -> Response:
    return _board_form(call, values={"dataset_type": "GET", "eval_type": "exact", "model_prompt": "{input}"})


def _board_data(fields: dict[str, str]) -> dict[str, Any]:
    data: dict[str, Any] = filled(fields, *BOARD_FIELDS)
    if "name" in fields:
        data["name"] = fields["name"].strip()  # required: an empty one is refused as the API refuses it
    if fields.get("monthly_budget_usd", "").strip():
        try:
            data["constraints"] = {"monthly_budget_usd": float(fields["monthly_budget_usd"])}
        except ValueError:
            data["constraints"] = fields["monthly_budget_usd"]  # refused by the schema with its own message
    return data


async def create(call: Call[None]) -> Response:
    fields = await form(call)
    body, errors = validated(LeaderboardCreate, _board_data(fields))
    if body is not None:
        try:
            board = await leaderboards.create_leaderboard(call.deps, call.workspace_id, body)
            return redirect(f"/leaderboards/{board.id}")
        except DomainError as exc:
            errors = _domain_errors(exc)
    return _board_form(call, errors=errors, values=fields, status=422)


def _domain_errors(exc: DomainError) -> list[dict[str, str]]:
    details = exc.details if isinstance(exc.details, list) else []
    found = [{"field": str(d.get("field", "body")), "message": str(d.get("message", exc.message))}
             for d in details if isinstance(d, dict)]
    return found or [{"field": "body", "message": exc.message}]


async def edit_page(call: Call[None]) -> Response:
    board = await Leaderboards(call.deps.documents).get_owned(call.path["leaderboard_id"], call.workspace_id)
    public = LeaderboardPublic.model_validate(board, from_attributes=True)
    values = public.model_dump()
    values["monthly_budget_usd"] = (public.constraints or {}).get("monthly_budget_usd", "")
    return _board_form(call, board=public, values=values)


async def edit(call: Call[None]) -> Response:
    lid = call.path["leaderboard_id"]
    board = await Leaderboards(call.deps.documents).get_owned(lid, call.workspace_id)
    fields = await form(call)
    data = _board_data(fields)
    for name in ("description", "dataset_url", "system_prompt", "category", "judge_model"):
        data.setdefault(name, None)  # an emptied field clears it
    if "dataset_url" in data and data["dataset_url"] is None and board.dataset_type == "PUSH":
        data.pop("dataset_url")
    body, errors = validated(LeaderboardUpdate, data)
    if body is not None:
        try:
            await leaderboards.update_leaderboard(call.deps, call.workspace_id, lid, body)
            return redirect(f"/leaderboards/{lid}")
        except DomainError as exc:
            errors = _domain_errors(exc)
    return _board_form(call, board=LeaderboardPublic.model_validate(board, from_attributes=True), errors=errors,
                       values=fields, status=422)


async def detail_page(call: Call[None], errors: list[dict[str, str]] = (), status: int = 200) -> Response:
    lid = call.path["leaderboard_id"]
    detail = await leaderboards.leaderboard_detail(call.deps, call.workspace_id, lid)
    board = detail["leaderboard"]
    models = [CandidatePublic.model_validate(c, from_attributes=True) for c in detail["models"]]
    names = {c.id: c.name for c in models}
    ranking = (detail["ranking"] or {}).get("ranking") or []
    for run in detail["runs"]:
        names.update({c["id"]: c["name"] for c in run.candidates if c["id"] not in names})
    chosen = board.chosen_leaderboard_model_id
    budget = await spend.budget(call.deps, board)
    recent = [{"summary": RunSummary.model_validate(run, from_attributes=True),
               "progress": await runs.progress(call.deps, run) if not run.finished else None}
              for run in detail["runs"]]
    return render(call, "leaderboard.html", status, board=LeaderboardPublic.model_validate(board, from_attributes=True),
                  challenge=detail["challenge"], models=models, runs=recent, ranking=ranking, names=names,
                  chosen=chosen, ranking_chart=charts.ranking(ranking, names, chosen),
                  cost_chart=charts.pareto(ranking, names, "cost_usd_per_row", "cost per row (USD)"),
                  latency_chart=charts.pareto(ranking, names, "latency_ms_p50", "median latency (ms)"),
                  budget=budget, schedule=board.schedule or {}, due=board.schedule_due, errors=list(errors),
                  platforms=PLATFORMS)


async def choose(call: Call[None]) -> Response:
    lid, fields = call.path["leaderboard_id"], await form(call)
    chosen = fields.get("chosen", "")
    data = {"chosen_model_strategy": "ranking_winner"} if chosen in ("", "winner") else \
        {"chosen_model_strategy": "manual", "chosen_leaderboard_model_id": chosen}
    return await _update_then_show(call, lid, data)


async def _submit(call: Call[Any], schema: type[BaseModel], data: dict[str, Any],
                  change: Callable[[Any], Awaitable[Any]], then: str) -> Response:
    """Validate the form as the API validates its body and make the change, then go to `then`;
    refused, the leaderboard page again with the API's messages."""
    body, errors = validated(schema, data)
    if body is not None:
        try:
            await change(body)
            return redirect(then)
        except DomainError as exc:
            errors = _domain_errors(exc)
    return await detail_page(call, errors, 422)


async def _update_then_show(call: Call[Any], lid: str, data: dict[str, Any]) -> Response:
    return await _submit(call, LeaderboardUpdate, data,
                         lambda body: leaderboards.update_leaderboard(call.deps, call.workspace_id, lid, body),
                         f"/leaderboards/{lid}")


async def add_candidate(call: Call[None]) -> Response:
    lid, fields = call.path["leaderboard_id"], await form(call)
    data = {"name": fields.get("name", "").strip(), **filled(fields, "platform", "model_url", "model_id", "token")}
    return await _submit(call, CandidateCreate, data,
                         lambda body: candidates.add_candidate(call.deps, call.workspace_id, lid, body),
                         f"/leaderboards/{lid}#candidates")


async def change_candidate(call: Call[None]) -> Response:
    lid, cid, fields = call.path["leaderboard_id"], call.path["leaderboard_model_id"], await form(call)
    data: dict[str, Any] = filled(fields, "name", "model_url", "token")  # an empty token field keeps the token
    if fields.get("remove_token"):
        data["token"] = None
    return await _submit(call, CandidateUpdate, data,
                         lambda body: candidates.change_candidate(call.deps, call.workspace_id, lid, cid, body),
                         f"/leaderboards/{lid}#candidates")


async def remove_candidate(call: Call[None]) -> Response:
    lid = call.path["leaderboard_id"]
    await candidates.remove_candidate(call.deps, call.workspace_id, lid, call.path["leaderboard_model_id"])
    return redirect(f"/leaderboards/{lid}#candidates")


async def start_run(call: Call[None]) -> Response:
    lid = call.path["leaderboard_id"]
    try:
        run = await runs.start_run(call.deps, call.workspace_id, lid, None, "console")
    except DomainError as exc:
        if exc.code not in ("no_candidates", "no_dataset", "archived"):
            raise
        return await detail_page(call, _domain_errors(exc), 409)
    return redirect(f"/leaderboards/{lid}#run-{run.id}")


async def runs_progress(call: Call[None]) -> Response:
    """The recent runs' status and progress, polled by the leaderboard page."""
    lid = call.path["leaderboard_id"]
    await Leaderboards(call.deps.documents).get_owned(lid, call.workspace_id)
    recent, _ = await Runs(call.deps.documents).page({"leaderboard_id": lid}, leaderboards.RECENT_RUNS, 0)
    body = [{"id": run.id, "status": run.status, "finished": run.finished,
             "percent": 100.0 if run.finished else (await runs.progress(call.deps, run))["percent"]}
            for run in recent]
    return JSONResponse({"runs": body}, headers={"Cache-Control": "no-store"})


async def save_schedule(call: Call[None]) -> Response:
    lid, fields = call.path["leaderboard_id"], await form(call)
    on = {name: fields.get(name) == "on" for name in ("cron", "new_data", "model_version")}
    if not any(on.values()):
        return await _update_then_show(call, lid, {"schedule": None})
    cron: dict[str, Any] = {"enabled": on["cron"], "preset": fields.get("preset", "DAILY") or "DAILY"}
    cron.update(filled(fields, "expression", "timezone"))
    new_data: dict[str, Any] = {"enabled": on["new_data"]}
    if fields.get("every_new_events", "").strip():
        new_data["every_new_events"] = fields["every_new_events"].strip()
    schedule = {"version": 2, "triggers": {"cron": cron, "new_data": new_data,
                                           "model_version": {"enabled": on["model_version"]}}}
    return await _update_then_show(call, lid, {"schedule": schedule})
