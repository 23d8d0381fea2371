"""Auto-labels: an LLM labeler writes the expected answer of rows that have none.

The labeler is `eval_metadata.labeler_provider` / `labeler_model` (`labeler_url` for a
Custom one), or else the judge. Labels are stored as a label set beside the dataset
version they were made for (`datasets/{leaderboard}/labels/{version}.jsonl`), never by
rewriting the dataset: a new version gets its own label set. Runs use the label set of
the version they read when the leaderboard's `dataset_auto_labels` is on.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import orjson

from shared.domain.leaderboard import Leaderboard
from shared.domain.run import Run
from shared.errors import ConflictError
from shared.ports import Data, Deps, Endpoint, ProviderError
from shared.services import runs
from shared.services.consolidation import consolidate
from shared.services.datasets import dataset_rows
from shared.services.endpoints import EndpointUnavailable, judge_endpoint
from shared.services.outbound import DatasetUnavailable
from shared.stores.leaderboards import Leaderboards

LABEL_SYSTEM = "Answer the task below as well as you can. Reply with the answer only."


def _version_key(description: dict[str, Any]) -> str:
    return f"v{description['version']}" if description["type"] == "PUSH" else "get"


def label_key(leaderboard_id: str, description: dict[str, Any]) -> str:
    return f"datasets/{leaderboard_id}/labels/{_version_key(description)}.jsonl"


async def labels_for(deps: Deps, leaderboard_id: str, description: dict[str, Any]) -> dict[str, str]:
    """row id -> label, for the dataset version described (empty when there is no label set)."""
    key = label_key(leaderboard_id, description)
    if await deps.blobs.stat(key) is None:
        return {}
    data, _ = await deps.blobs.get(key)
    return {entry["row_id"]: entry["expected"] for entry in map(json.loads, data.splitlines()) if entry.get("expected")}


async def generate(deps: Deps, board: Leaderboard) -> dict[str, Any]:
    """Label every row of the current dataset that has no expected answer; returns the counts.

    Without a dataset there is nothing to decide, so that is 409 `labels_unavailable`; the
    labeler is only looked for when some row needs it, so a dataset whose every row has an
    answer (or a label) answers zero labelled even when no labeler could be reached.
    """
    try:
        rows, description = await dataset_rows(deps, board)
    except DatasetUnavailable as exc:
        raise _unavailable(exc) from None
    existing = await labels_for(deps, board.id, description)
    missing = [row async for row in rows if not row.get("expected") and row["id"] not in existing]
    counts = {"rows": len(missing) + len(existing), "already_labeled": len(existing), "labeled": 0, "failed": 0,
              "failures": []}
    if missing:
        await _label(deps, await _labeler(deps, board), missing, existing, counts)
        await _store(deps, label_key(board.id, description), existing)
    counts["failures"] = counts["failures"][:20]
    return {"leaderboard_id": board.id, "dataset": description, "labels": len(existing), **counts}


def _unavailable(reason: Exception) -> ConflictError:
    return ConflictError(f"Cannot label: {reason}", code="labels_unavailable")


async def _labeler(deps: Deps, board: Leaderboard) -> Endpoint:
    """The labeler model, else the judge (409 when it cannot be called)."""
    eval_metadata = board.eval_metadata
    try:
        return await judge_endpoint(deps, board.workspace_id, {
            "judge_provider": eval_metadata.get("labeler_provider") or eval_metadata.get("judge_provider"),
            "judge_model": eval_metadata.get("labeler_model") or eval_metadata.get("judge_model"),
            "judge_url": eval_metadata.get("labeler_url") or eval_metadata.get("judge_url")})
    except EndpointUnavailable as exc:
        raise _unavailable(exc) from None


async def _store(deps: Deps, key: str, labels: dict[str, str]) -> None:
    body = b"".join(orjson.dumps({"row_id": row_id, "expected": text}, option=orjson.OPT_APPEND_NEWLINE)
                    for row_id, text in labels.items())
    await deps.blobs.put(key, body, content_type="application/x-ndjson")


async def _label(deps: Deps, labeler: Endpoint, missing: list[Data], labels: dict[str, str],
                 counts: dict[str, Any]) -> None:
    """Ask the labeler for each missing row; new labels join `labels`, the tally goes into `counts`."""
    limit = asyncio.Semaphore(deps.settings.candidate_concurrency)

    async def label(row: Data) -> tuple[str, str | None, str | None]:
        async with limit:
            try:
                reply = await deps.chat.complete(labeler, [{"role": "system", "content": LABEL_SYSTEM},
                                                           {"role": "user", "content": row["input"]}],
                                                 temperature=0, max_tokens=deps.settings.run_max_tokens)
            except ProviderError as exc:
                return row["id"], None, exc.message
            return row["id"], reply.text.strip() or None, None if reply.text.strip() else "empty label"

    for row_id, text, error in await asyncio.gather(*(label(row) for row in missing)):
        if text is None:
            counts["failed"] += 1
            counts["failures"].append({"row_id": row_id, "error": error})
        else:
            labels[row_id] = text
            counts["labeled"] += 1


async def improve_and_run(deps: Deps, workspace_id: str, leaderboard_id: str, model_ids: list[str] | None,
                          run_source: str) -> tuple[Run, dict[str, Any]]:
    """Consolidate pending rows, label rows without an expected answer, then run without empty or repeated rows.

    Returns the run and what each step did.
    """
    board = (await Leaderboards(deps.documents).get_owned(leaderboard_id, workspace_id)).require_unarchived("a run")
    steps: dict[str, Any] = {"consolidation": None, "labels": None}
    if board.is_push:
        steps["consolidation"] = (await consolidate(deps, board)).as_json()
    try:
        steps["labels"] = await generate(deps, board)
    except ConflictError as exc:
        steps["labels"] = {"error": exc.code, "message": exc.message}
    run = await runs.start_run(deps, workspace_id, leaderboard_id, model_ids, run_source, trigger="improve-dataset",
                               improve=True)
    return run, steps
