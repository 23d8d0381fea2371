"""Fine-tuning own models on a leaderboard's dataset, through the `FineTuner` port.

A run turns the leaderboard's current dataset (the consolidated PUSH version, or the
Hugging Face file) into chat-format JSONL: each row with an `expected` answer becomes
`{"messages": [{"role": "user", "content": <the prompt template filled with the row>},
{"role": "assistant", "content": <expected>}]}`, the same prompt runs send. Sync polls the
backend; a succeeded job raises the model's `version` by one and makes the fine-tuned model
what the Dr.Gero candidate calls, and the schedules' `model_version` trigger sees it.
"""

from __future__ import annotations

from typing import Any

import orjson

from shared.domain.leaderboard import Leaderboard, fill_prompt
from shared.domain.own_model import ACTIVE, FineTuneRun
from shared.domain.times import iso
from shared.errors import ConflictError, InvalidInput, ServiceUnavailable, UpstreamUnavailable
from shared.ports import Data, Deps, FineTuneJob, FineTuner, FineTuneRejected, Transaction, Unavailable
from shared.schemas.fine_tunes import FineTuneStart
from shared.services import base_models
from shared.services.datasets import dataset_rows
from shared.services.models import get_model
from shared.services.outbound import DatasetUnavailable
from shared.stores.leaderboards import Leaderboards
from shared.stores.models import FineTuneRuns, OwnModels

MAX_TRAINING_BYTES = 64 * 1024 * 1024


async def training_file(deps: Deps, board: Leaderboard) -> tuple[bytes, Data]:
    """The chat-format JSONL of the leaderboard's rows with an expected answer, and what it holds."""
    try:
        rows, description = await dataset_rows(deps, board)
    except DatasetUnavailable as exc:
        raise InvalidInput(f"The leaderboard's dataset cannot be read: {exc}", code="empty_dataset") from None
    template, lines, seen, size = board.prompt, [], 0, 0
    async for row in rows:
        seen += 1
        expected = row.get("expected")
        if not isinstance(expected, str) or not expected.strip():
            continue
        line = orjson.dumps({"messages": [{"role": "user", "content": fill_prompt(template, row)},
                                          {"role": "assistant", "content": expected}]})
        size += len(line) + 1
        if size > MAX_TRAINING_BYTES:
            raise InvalidInput(f"The training file would exceed {MAX_TRAINING_BYTES // 2**20} MiB; "
                               "limit the dataset first.", code="dataset_too_large")
        lines.append(line)
    if not lines:
        raise InvalidInput(f"The dataset has {seen} rows and none with an expected answer to train on.",
                           code="empty_dataset")
    return b"\n".join(lines) + b"\n", {**description, "rows": seen, "training_rows": len(lines)}


async def start(deps: Deps, workspace_id: str, model_id: str, body: FineTuneStart) -> FineTuneRun:
    model = await get_model(deps, workspace_id, model_id)
    base_model = body.base_model or model.base_model
    await base_models.require_offered(deps, base_model)
    if await _runs(deps, workspace_id, model_id, status=ACTIVE):
        raise ConflictError("A fine-tune of this model is in progress; sync it until it ends.",
                            code="fine_tune_in_progress")
    board = await Leaderboards(deps.documents).get_owned(body.leaderboard_id, workspace_id)
    jsonl, dataset = await training_file(deps, board)
    hyperparameters = body.hyperparameters.model_dump(exclude_none=True)
    tuner = _tuner(deps)
    run_id = deps.ids.new_id()
    try:
        file_id = await tuner.upload_training_file(f"drgero-{run_id}.jsonl", jsonl)
        job = await tuner.create_job(base_model, file_id, hyperparameters, body.suffix)
    except FineTuneRejected as exc:
        raise InvalidInput(f"The fine-tuning backend refused the job: {exc}", code="fine_tune_rejected") from None
    except Unavailable as exc:
        raise UpstreamUnavailable(f"The fine-tuning backend is unavailable: {exc}.") from None
    now = iso(deps.clock.now())
    run = FineTuneRun(id=run_id, workspace_id=workspace_id, model_id=model_id, leaderboard_id=board.id,
                      base_model=base_model, dataset=dataset, hyperparameters=hyperparameters,
                      backend_file_id=file_id, backend_job_id=job.id, status=job.status, created_at=now,
                      updated_at=now)
    return await FineTuneRuns(deps.documents).create(run)


def _tuner(deps: Deps) -> FineTuner:
    if deps.fine_tuner is None:
        raise ServiceUnavailable("No fine-tuning backend is configured.")
    return deps.fine_tuner


async def _runs(deps: Deps, workspace_id: str, model_id: str, status: tuple[str, ...]) -> list[FineTuneRun]:
    found: list[FineTuneRun] = []
    for one in status:
        found += await FineTuneRuns(deps.documents).find(
            {"workspace_id": workspace_id, "model_id": model_id, "status": one}, order=())
    return sorted(found, key=lambda run: run.created_at)


async def list_runs(deps: Deps, workspace_id: str, model_id: str, limit: int, offset: int
                    ) -> tuple[list[FineTuneRun], int]:
    await get_model(deps, workspace_id, model_id)
    return await FineTuneRuns(deps.documents).page({"workspace_id": workspace_id, "model_id": model_id}, limit, offset)


async def sync(deps: Deps, workspace_id: str, model_id: str) -> dict[str, Any]:
    """Poll the backend for the model's unfinished runs and record what ended."""
    await get_model(deps, workspace_id, model_id)
    synced = []
    for run in await _runs(deps, workspace_id, model_id, status=ACTIVE):
        try:
            job = await _tuner(deps).get_job(run.backend_job_id)
        except Unavailable as exc:
            raise UpstreamUnavailable(f"The fine-tuning backend is unavailable: {exc}.") from None
        except FineTuneRejected as exc:  # the backend no longer knows the job
            job = FineTuneJob(run.backend_job_id, "failed", error=f"The backend lost the job: {exc}")
        synced.append(await deps.documents.run_transaction(lambda tx, run=run, job=job: _record(deps, tx, run, job)))
    return {"data": synced, "count": len(synced), "model": await get_model(deps, workspace_id, model_id)}


async def _record(deps: Deps, tx: Transaction, run: FineTuneRun, job: FineTuneJob) -> FineTuneRun:
    """Apply the job's state once: a run that already ended (another sync) stays as it is.

    The run and its model change in one transaction, so two syncs cannot both raise the version.
    """
    runs, models = FineTuneRuns(deps.documents), OwnModels(deps.documents)
    current_doc, model_doc = await tx.get(runs.collection, run.id), await tx.get(models.collection, run.model_id)
    current = runs.load(current_doc) if current_doc else None
    if current is None or not current.active:
        return current or run
    now = iso(deps.clock.now())
    current.status, current.error, current.updated_at = job.status, job.error, now
    if not current.active:
        current.finished_at = now
    if job.status == "succeeded" and model_doc is not None:
        if not job.fine_tuned_model:
            current.status, current.error = "failed", "The backend reported success without a fine-tuned model."
        else:
            model = models.load(model_doc)
            serving = deps.settings.fine_tune_serving_url or deps.settings.fine_tune_base_url
            current.fine_tuned_model = job.fine_tuned_model
            current.model_version = model.fine_tuned(job.fine_tuned_model, serving, now)
            tx.set(models.collection, model.id, model.stored())
    tx.set(runs.collection, run.id, current.stored())
    return current
