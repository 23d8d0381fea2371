"""A run's page: the results matrix with filters and paging, one row's detail, and the JSONL download."""

from __future__ import annotations

from starlette.responses import Response, StreamingResponse

from functions.console import matrix as M
from functions.console.web import render
from shared.domain.leaderboard import fill_prompt
from shared.errors import NotFoundError
from shared.http.routes import Call
from shared.schemas.runs import RunPublic
from shared.services import runs
from shared.stores.leaderboards import Leaderboards

PAGE_ROWS = 50


def _int(text: str | None, default: int) -> int:
    return int(text) if text and text.isdigit() and len(text) < 9 else default


async def run_page(call: Call[None]) -> Response:
    lid, rid = call.path["leaderboard_id"], call.path["run_id"]
    run = await runs.get_run(call.deps, call.workspace_id, lid, rid)
    board = await Leaderboards(call.deps.documents).get_owned(lid, call.workspace_id)
    query = call.request.query_params
    kind = query.get("filter", "all") if query.get("filter") in M.FILTERS else "all"
    search = query.get("q", "")[:200]
    matrix = await M.matrix_of(call.deps, run)
    human = await M.human_scores(call.deps, run)
    selected = M.select(matrix, human, kind, search)
    pages = max(1, -(-len(selected) // PAGE_ROWS))
    page = min(max(1, _int(query.get("page"), 1)), pages)
    shown = selected[(page - 1) * PAGE_ROWS: page * PAGE_ROWS]
    names = {c["id"]: c["name"] for c in run.candidates}
    progress = None if run.finished else await runs.progress(call.deps, run)
    return render(call, "run.html", board_name=board.name, lid=lid, run=RunPublic.model_validate(run, from_attributes=True),
                  names=names, candidate_ids=run.candidate_ids, rows=[_view(row, run.candidate_ids, human) for row in shown],
                  kind=kind, search=search, page=page, pages=pages, matches=len(selected), total=len(matrix.rows),
                  progress=progress, filters=M.FILTERS)


def _clip(text: str | None, limit: int) -> str:
    text = text or ""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _view(row: M.MatrixRow, candidate_ids: list[str], human: dict[tuple[str, str], float]) -> dict:
    """What the matrix shows of a row: worked out here, so the template only writes it out (a page of
    50 rows x 5 candidates renders in a few milliseconds)."""
    cells = []
    for cid in candidate_ids:
        cell = row.cells.get(cid)
        if cell is None:
            cells.append(("pending", "—", ""))
            continue
        score = row.score(cid, human)
        klass = "fail" if M.failed(row, cid, human) else "pass" if score is not None else "pending"
        label = "failed" if cell["status"] == "failed" else f"score {score:.2f}" if score is not None else cell["status"]
        if cell.get("latency_ms") is not None:
            label += f" · {cell['latency_ms']:.0f} ms"
        cells.append((klass, _clip(cell.get("output") or cell.get("error"), 160), label))
    return {"index": row.index, "input": _clip(row.input, 160), "expected": _clip(row.expected, 80), "cells": cells}


async def row_page(call: Call[None]) -> Response:
    lid, rid = call.path["leaderboard_id"], call.path["run_id"]
    run = await runs.get_run(call.deps, call.workspace_id, lid, rid)
    board = await Leaderboards(call.deps.documents).get_owned(lid, call.workspace_id)
    matrix = await M.matrix_of(call.deps, run)
    index = _int(call.path["row"], -1)
    if not 0 <= index < len(matrix.rows):
        raise NotFoundError(f"Row {call.path['row']} not found in this run.")
    row = matrix.rows[index]
    prompt = fill_prompt(board.prompt, {"id": row.row_id, "input": row.input})
    return render(call, "run_row.html", lid=lid, run_id=rid, row=row, names={c["id"]: c["name"] for c in run.candidates},
                  candidate_ids=run.candidate_ids, prompt=prompt, system_prompt=board.system_prompt,
                  human=await M.human_scores(call.deps, run), total=len(matrix.rows))


async def download(call: Call[None]) -> Response:
    run = await runs.get_run(call.deps, call.workspace_id, call.path["leaderboard_id"], call.path["run_id"])
    return StreamingResponse(runs.result_stream(call.deps, run), media_type="application/x-ndjson",
                             headers={"Content-Disposition": f'attachment; filename="run-{run.id}.jsonl"',
                                      "Cache-Control": "no-store"})
