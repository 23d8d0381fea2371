"""A run's results as a matrix of rows x candidates, read from the result blobs the run's chunks wrote.

A finished run's results never change, so its matrix is parsed once per instance and kept
(a few runs at most): filtering and paging a 10,000-row run is then list work, not 50,000
JSON records read again per page. A running run is read afresh each time. Human scores live
on the annotations, so they are laid over the cells on every read.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import orjson

from shared.domain.run import Run
from shared.ports import Data, Deps, NotFound
from shared.services import annotations
from shared.services.runs import result_key

PASS_THRESHOLD = 0.5
KEPT_RUNS = 4
KEPT_SELECTIONS = 32
READ_AT_ONCE = 16
FILTERS = ("all", "failures", "passes", "different")


@dataclass
class MatrixRow:
    index: int
    row_id: str
    input: str
    expected: str | None
    cells: dict[str, Data] = field(default_factory=dict)
    haystack: str = ""
    # Worked out once from the stored scores; rows waiting for people are judged per request.
    any_failed: bool = False
    all_passed: bool = False
    waits_for_people: bool = False

    def score(self, cid: str, human: dict[tuple[str, str], float]) -> float | None:
        cell = self.cells.get(cid)
        if cell is None:
            return None
        return human.get((cid, self.row_id), cell.get("score")) if cell["status"] == "pending_human" else cell["score"]


@dataclass
class Matrix:
    candidate_ids: list[str]
    rows: list[MatrixRow]
    different: set[int]
    # The rows each (filter, search) kept, for a finished run without human scores: paging
    # through 10,000 rows then costs a slice, not another pass over them.
    selections: OrderedDict[tuple[str, str], list[MatrixRow]] = field(default_factory=OrderedDict)
    final: bool = False


_KEPT: OrderedDict[tuple[str, str | None], Matrix] = OrderedDict()


async def matrix_of(deps: Deps, run: Run) -> Matrix:
    key = (run.id, run.finished_at)
    if run.finished and key in _KEPT:
        _KEPT.move_to_end(key)
        return _KEPT[key]
    built = await _read(deps, run)
    if run.finished:
        _KEPT[key] = built
        while len(_KEPT) > KEPT_RUNS:
            _KEPT.popitem(last=False)
    return built


async def _records(deps: Deps, key: str) -> list[Data]:
    """A result blob's records, parsed as one JSON array (one parser call instead of one per line)."""
    try:
        data, _ = await deps.blobs.get(key)
    except NotFound:
        return []  # not evaluated yet
    return orjson.loads(b"[" + b",".join(line for line in data.splitlines() if line.strip()) + b"]")


async def _read(deps: Deps, run: Run) -> Matrix:
    by_row: dict[str, MatrixRow] = {}
    keys = [(cid, result_key(run.id, cid, chunk)) for cid in run.candidate_ids for chunk in range(run.chunks or 0)]
    for start in range(0, len(keys), READ_AT_ONCE):  # a few reads in flight: GCS answers each in tens of ms
        batch = keys[start:start + READ_AT_ONCE]
        for (cid, _), records in zip(batch, await asyncio.gather(*(_records(deps, key) for _, key in batch)),
                                     strict=True):
            for result in records:
                _place(by_row, cid, result)
    rows = list(by_row.values())
    for row in rows:
        texts = [row.input, row.expected or ""] + [c.get("output") or "" for c in row.cells.values()]
        row.haystack = "\n".join(texts).lower()
        row.waits_for_people = any(c["status"] == "pending_human" for c in row.cells.values())
        row.any_failed = any(failed(row, cid, {}) for cid in row.cells)
        row.all_passed = bool(row.cells) and all(_passed(row, cid, {}) for cid in row.cells)
    different = {row.index for row in rows if len({_norm(c.get("output")) for c in row.cells.values()}) > 1}
    return Matrix(run.candidate_ids, rows, different, final=run.finished and run.eval_type != "human")


def _place(by_row: dict[str, MatrixRow], cid: str, result: Data) -> None:
    row = by_row.get(result["row_id"])
    if row is None:
        row = by_row[result["row_id"]] = MatrixRow(len(by_row), result["row_id"], str(result.get("input") or ""),
                                                  result.get("expected"))
    row.cells[cid] = result


def _norm(text: Any) -> str:
    return " ".join(str(text or "").split()).lower()


async def human_scores(deps: Deps, run: Run) -> dict[tuple[str, str], float]:
    return await annotations.scores(deps, run.id) if run.eval_type == "human" else {}


def failed(row: MatrixRow, cid: str, human: dict[tuple[str, str], float]) -> bool:
    cell = row.cells.get(cid)
    if cell is None:
        return False
    score = row.score(cid, human)
    return cell["status"] == "failed" or (score is not None and score < PASS_THRESHOLD)


def _passed(row: MatrixRow, cid: str, human: dict[tuple[str, str], float]) -> bool:
    return row.cells[cid]["status"] != "failed" and (row.score(cid, human) or 0) >= PASS_THRESHOLD


def select(matrix: Matrix, human: dict[tuple[str, str], float], kind: str, search: str) -> list[MatrixRow]:
    """The rows the filter and the search keep, in dataset order."""
    key = (kind, search.strip().lower())
    if matrix.final and key in matrix.selections:
        matrix.selections.move_to_end(key)
        return matrix.selections[key]
    chosen = _select(matrix, human, kind, key[1])
    if matrix.final:
        matrix.selections[key] = chosen
        while len(matrix.selections) > KEPT_SELECTIONS:
            matrix.selections.popitem(last=False)
    return chosen


def _select(matrix: Matrix, human: dict[tuple[str, str], float], kind: str, needle: str) -> list[MatrixRow]:
    rows = matrix.rows
    if kind == "failures":
        rows = [r for r in rows if (any(failed(r, cid, human) for cid in r.cells) if r.waits_for_people
                                    else r.any_failed)]
    elif kind == "passes":
        rows = [r for r in rows if (bool(r.cells) and all(_passed(r, cid, human) for cid in r.cells)
                                    if r.waits_for_people else r.all_passed)]
    elif kind == "different":
        rows = [r for r in rows if r.index in matrix.different]
    if needle:
        rows = [r for r in rows if needle in r.haystack]
    return rows
