"""The queued work of a run: prepare the snapshot, call and score each candidate chunk by chunk, rank.

Every task is idempotent, because a queue may deliver it twice:
- prepare writes the row snapshot once (a run that has `chunks` is prepared);
- a chunk writes its results blob once (create-only) and then records a chunk document
  (create-only); a redelivered chunk finds them and only re-sends what follows it;
- completion is noticed by counting chunk documents, never by a counter every chunk
  writes; finalize is queued under one name and does nothing for a finished run.

Each candidate has one chunk in flight at a time, with `candidate_concurrency` model
calls in it, and queues its next chunk when done, so candidates run side by side and a
slow provider never holds up another. A row whose model call fails after the client's
retries is recorded as failed with the reason; it never blocks the run.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections import deque
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import orjson

from shared.ports import Deps
from shared.domain import scoring
from shared.domain.leaderboard import effective_prompt, fill_prompt
from shared.domain.ranking import CandidateRows, rank
from shared.errors import InvalidInput
from shared.ports import AlreadyExists, Data, NotFound, Order, PreconditionFailed, Query
from shared.ports import Endpoint
from shared.ports import ProviderError
from shared.services import annotations, auto_labels
from shared.services.consolidation import row_digest
from shared.services.datasets import DatasetUnavailable, dataset_rows
from shared.services.endpoints import EndpointUnavailable, candidate_endpoint, judge_endpoint
from shared.services.records import CANDIDATES, LEADERBOARDS, RUNS, iso, now_iso
from shared.services.runs import (
    CHUNK_TASK, FINALIZE_TASK, RUN_CHUNKS, TERMINAL, queue_prepare, result_key, rows_key,
)

log = logging.getLogger(__name__)
JUDGE_ATTEMPTS = 3
# A prepare task normally starts within seconds; a run still queued this long after it
# was stored may never have had its task queued.
REQUEUE_AFTER = timedelta(minutes=2)


async def _run(deps: Deps, run_id: str) -> Data | None:
    doc = await deps.documents.get(RUNS, run_id)
    return doc.data if doc else None


async def _fail(deps: Deps, run: Data, error: str) -> None:
    await deps.documents.update(RUNS, run["id"], {"status": "failed", "error": error, "finished_at": now_iso(deps)})


async def prepare(deps: Deps, payload: Data) -> None:
    run = await _run(deps, payload["run_id"])
    if run is None or run["status"] in TERMINAL:
        return
    if run["chunks"] is None:
        board = await deps.documents.get(LEADERBOARDS, run["leaderboard_id"])
        if board is None:
            await _fail(deps, run, "The leaderboard was deleted.")
            return
        try:
            run = await _snapshot(deps, run, board.data)
        except (DatasetUnavailable, InvalidInput) as exc:
            await _fail(deps, run, f"Dataset unavailable: {getattr(exc, 'message', exc)}")
            return
        if run["rows"] == 0:
            await _fail(deps, run, "The dataset has no usable rows.")
            return
    for candidate_id in run["candidate_ids"]:
        await _queue_chunk(deps, run["id"], candidate_id, 0)


async def _snapshot(deps: Deps, run: Data, board: Data) -> Data:
    """Freeze the rows this run evaluates into chunk blobs, so every chunk sees the same data."""
    rows, description = await dataset_rows(deps, board)
    if run.get("dataset_limit"):
        rows = limited(rows, run["dataset_limit"])
    # improve-dataset runs use the labels they just made, whatever the leaderboard's default
    use_labels = board.get("dataset_auto_labels") or run.get("improve")
    labels = await auto_labels.labels_for(deps, board["id"], description) if use_labels else {}
    size = max(deps.settings.run_chunk_rows, 4 * deps.settings.candidate_concurrency)
    buffer: list[bytes] = []
    count = chunks = dropped = 0
    seen: set[bytes] = set()
    async for row in rows:
        if not row.get("expected") and row["id"] in labels:
            row = {**row, "expected": labels[row["id"]], "auto_label": True}
        if run.get("improve"):
            # improve-dataset runs leave out empty and repeated rows
            digest = row_digest(row if row.get("id") is None else {**row, "id": None})
            if not row["input"].strip() or digest in seen:
                dropped += 1
                continue
            seen.add(digest)
        buffer.append(orjson.dumps(row, option=orjson.OPT_APPEND_NEWLINE))
        count += 1
        if len(buffer) == size:
            await deps.blobs.put(rows_key(run["id"], chunks), b"".join(buffer), content_type="application/x-ndjson")
            buffer, chunks = [], chunks + 1
    if buffer:
        await deps.blobs.put(rows_key(run["id"], chunks), b"".join(buffer), content_type="application/x-ndjson")
        chunks += 1
    changes = {"dataset": {**description, "auto_labels": len(labels), "dropped_rows": dropped},
               "rows": count, "chunks": chunks, "chunk_rows": size,
               "status": "running", "started_at": now_iso(deps)}
    await deps.documents.update(RUNS, run["id"], changes)
    return {**run, **changes}


AUTO_LIMIT_ROWS = 1000


async def limited(rows: AsyncIterator[Data], limit: Data) -> AsyncIterator[Data]:
    """A scheduled run's dataset limit: the last N rows, or N drawn at random (seeded), in dataset order.

    `auto` means AUTO_LIMIT_ROWS rows. Only N rows are held in memory at once.
    """
    size = AUTO_LIMIT_ROWS if limit.get("auto") else limit["rows"]
    if limit.get("algorithm") == "RANDOM":
        rng, kept = random.Random(limit.get("seed") or 0), []
        async for index, row in _enumerate(rows):  # reservoir sampling keeps each row with equal chance
            if len(kept) < size:
                kept.append((index, row))
            elif (slot := rng.randrange(index + 1)) < size:
                kept[slot] = (index, row)
        for _, row in sorted(kept, key=lambda pair: pair[0]):
            yield row
        return
    last: deque[Data] = deque(maxlen=size)
    async for row in rows:
        last.append(row)
    for row in last:
        yield row


async def _enumerate(rows: AsyncIterator[Data]) -> AsyncIterator[tuple[int, Data]]:
    index = 0
    async for row in rows:
        yield index, row
        index += 1


async def _queue_chunk(deps: Deps, run_id: str, candidate_id: str, chunk: int) -> None:
    await deps.queue.enqueue(CHUNK_TASK, {"run_id": run_id, "candidate_id": candidate_id, "chunk": chunk},
                             name=f"{run_id}-{candidate_id}-{chunk}")


async def run_chunk(deps: Deps, payload: Data) -> None:
    run = await _run(deps, payload["run_id"])
    if run is None or run["status"] in TERMINAL:
        return
    candidate_id, chunk = payload["candidate_id"], payload["chunk"]
    chunk_id = f"{run['id']}.{candidate_id}.{chunk}"
    if await deps.documents.get(RUN_CHUNKS, chunk_id) is None:
        results = await _results(deps, run, candidate_id, chunk)
        record = {"id": chunk_id, "run_id": run["id"], "workspace_id": run["workspace_id"],
                  "candidate_id": candidate_id, "chunk": chunk, "items": len(results),
                  "failed": sum(r["status"] == "failed" for r in results), "created_at": now_iso(deps)}
        try:
            await deps.documents.create(RUN_CHUNKS, chunk_id, record)
        except AlreadyExists:
            pass  # a twin delivery recorded it first; the results blob is the same one
    if chunk + 1 < run["chunks"]:
        await _queue_chunk(deps, run["id"], candidate_id, chunk + 1)
    finished = await deps.documents.count(Query(RUN_CHUNKS, where={"run_id": run["id"]}))
    if finished >= run["chunks"] * len(run["candidate_ids"]):
        await deps.queue.enqueue(FINALIZE_TASK, {"run_id": run["id"]}, name=f"{run['id']}-finalize")


async def _jsonl(deps: Deps, key: str, *, required: bool = True) -> list[Data] | None:
    """The records of a small JSONL blob (a chunk's rows or results).

    An absent optional blob is None; an absent required one raises NotFound, so the task
    fails and the queue retries it.
    """
    try:
        data, _ = await deps.blobs.get(key)
    except NotFound:
        if required:
            raise
        return None
    return [json.loads(line) for line in data.splitlines() if line.strip()]


async def _results(deps: Deps, run: Data, candidate_id: str, chunk: int) -> list[Data]:
    """This chunk's results: read back if a previous delivery stored them, else computed and stored."""
    key = result_key(run["id"], candidate_id, chunk)
    stored = await _jsonl(deps, key, required=False)
    if stored is not None:
        return stored
    board = (await deps.documents.get(LEADERBOARDS, run["leaderboard_id"])).data
    candidate_doc = await deps.documents.get(CANDIDATES, candidate_id)
    rows = await _jsonl(deps, rows_key(run["id"], chunk))
    results = await _evaluate(deps, run, board, candidate_doc.data if candidate_doc else None, rows)
    body = b"".join(orjson.dumps(result, option=orjson.OPT_APPEND_NEWLINE) for result in results)
    try:
        await deps.blobs.put(key, body, if_generation=0, content_type="application/x-ndjson")
    except PreconditionFailed:
        return await _jsonl(deps, key)  # a twin delivery stored its results first: use those
    return results


async def _evaluate(deps: Deps, run: Data, board: Data, candidate: Data | None, rows: list[Data]) -> list[Data]:
    if candidate is None:
        return [_failed(row, run, "The candidate was removed from the leaderboard.") for row in rows]
    try:
        endpoint = await candidate_endpoint(deps, candidate)
        judge = await judge_endpoint(deps, run["workspace_id"], board.get("eval_metadata") or {}) \
            if run["eval_type"] == "judge" else None
    except EndpointUnavailable as exc:
        return [_failed(row, run, str(exc), candidate["id"]) for row in rows]
    template = effective_prompt(board)
    limit = asyncio.Semaphore(deps.settings.candidate_concurrency)

    async def one(row: Data) -> Data:
        async with limit:
            return await _evaluate_row(deps, run, board, candidate["id"], endpoint, judge, template, row)

    return list(await asyncio.gather(*(one(row) for row in rows)))


def _failed(row: Data, run: Data, reason: str, candidate_id: str | None = None) -> Data:
    return {"row_id": row["id"], "candidate_id": candidate_id, "status": "failed", "error": reason,
            "input": row["input"], "expected": row.get("expected"), "output": None, "score": None,
            "latency_ms": None, "tokens": None, "cost_usd": None}


async def _evaluate_row(deps: Deps, run: Data, board: Data, candidate_id: str, endpoint: Endpoint,
                        judge: Endpoint | None, template: str, row: Data) -> Data:
    messages = [{"role": "user", "content": fill_prompt(template, row)}]
    try:
        completion = await deps.chat.complete(endpoint, messages, max_tokens=deps.settings.run_max_tokens)
    except ProviderError as exc:
        return _failed(row, run, f"{type(exc).__name__}: {exc.message}", candidate_id)
    result = {"row_id": row["id"], "candidate_id": candidate_id, "status": "scored", "error": None,
              "input": row["input"], "expected": row.get("expected"), "output": completion.text, "score": None,
              "latency_ms": round(completion.latency_ms, 2), "tokens": completion.usage.total_tokens,
              "cost_usd": completion.usage.cost_usd}
    eval_metadata = board.get("eval_metadata") or {}
    if run["eval_type"] == "exact":
        result["score"] = scoring.exact_score(completion.text, row.get("expected"), eval_metadata.get("exact"))
        if result["score"] is None:
            result["status"] = "unscored"
    elif run["eval_type"] == "judge":
        result.update(await _judge(deps, judge, row, completion.text))
    else:
        result["status"] = "pending_human"
    return result


async def _judge(deps: Deps, judge: Endpoint | None, row: Data, answer: str) -> dict[str, Any]:
    assert judge is not None
    messages = scoring.judge_messages(row["input"], answer, row.get("expected"))
    last_error = "the judge's replies held no score"
    for _ in range(JUDGE_ATTEMPTS):
        try:
            reply = await deps.chat.complete(judge, messages, temperature=0, response_format=scoring.JUDGE_SCHEMA,
                                             max_tokens=deps.settings.judge_max_tokens)
        except ProviderError as exc:
            last_error = f"judge {type(exc).__name__}: {exc.message}"
            break
        verdict = scoring.parse_verdict(reply.text)
        if verdict is not None:
            return {"score": verdict.score, "judge_reasoning": verdict.reasoning}
    return {"status": "failed", "error": last_error}


async def finalize(deps: Deps, payload: Data) -> None:
    run = await _run(deps, payload["run_id"])
    if run is None or run["status"] in TERMINAL:
        return
    candidates = {cid: CandidateRows(cid) for cid in run["candidate_ids"]}
    human = await annotations.scores(deps, run["id"]) if run["eval_type"] == "human" else {}
    waiting: list[Data] = []
    for cid, rows in candidates.items():
        for chunk in range(run["chunks"] or 0):
            for result in await _chunk_results_or_failures(deps, run, cid, chunk):
                if result["status"] == "pending_human":
                    result["score"] = human.get((cid, result["row_id"]))
                    if result["score"] is None:
                        waiting.append(result)
                _collect(rows, result)
    pending_human = len(waiting)
    if waiting:
        await annotations.open_annotations(deps, run, waiting)
    ranking = rank(list(candidates.values()), scoring.PASS_THRESHOLD)
    winner = ranking[0]["candidate_id"] if ranking and ranking[0]["mean_score"] is not None else None
    status = "awaiting_human" if pending_human else "completed"
    await deps.documents.update(RUNS, run["id"], {
        "status": status, "ranking": ranking, "winner_id": winner,
        "finished_at": now_iso(deps) if status == "completed" else None})
    if status == "completed":
        await _apply_ranking(deps, run, ranking, winner)


async def _chunk_results_or_failures(deps: Deps, run: Data, candidate_id: str, chunk: int) -> list[Data]:
    """A chunk's results; a chunk that never finished (a reaped run) counts its rows as failed."""
    stored = await _jsonl(deps, result_key(run["id"], candidate_id, chunk), required=False)
    if stored is not None:
        return stored
    return [_failed(row, run, "The chunk never finished (its tasks ran out of retries).", candidate_id)
            for row in await _jsonl(deps, rows_key(run["id"], chunk))]


async def reap_stale_runs(deps: Deps) -> list[Data]:
    """Keep every run moving: no run stays queued or running forever.

    A run still queued REQUEUE_AFTER after its last sign of life may have lost its prepare
    task (the enqueue failed after the run was stored): it is queued again under the same
    name, which the queue refuses if the task is still there. A run without progress for
    `stale_run_minutes` is finished: never prepared, it fails; otherwise chunks whose tasks
    died (retries exhausted, queue purged) count their rows as failed. Returns
    `{run_id, action}` for each run touched, the action being requeued, failed or finished.
    """
    now = deps.clock.now()
    stale, requeue = iso(now - timedelta(minutes=deps.settings.stale_run_minutes)), iso(now - REQUEUE_AFTER)
    touched: list[Data] = []
    for status in ("queued", "running"):
        for doc in await deps.documents.query(Query(RUNS, where={"status": status},
                                                    select=("id", "created_at", "started_at", "chunks"))):
            last = await _last_progress(deps, doc.id, doc.data)
            run = await _run(deps, doc.id) if last < requeue else None
            if run is None or run["status"] in TERMINAL:
                continue
            if last >= stale:
                if run["chunks"] is None and await queue_prepare(deps, run["id"]):
                    touched.append({"run_id": run["id"], "action": "requeued"})
            elif run["chunks"] is None:
                await _fail(deps, run, "The run was never prepared (its task ran out of retries).")
                touched.append({"run_id": run["id"], "action": "failed"})
            else:
                await finalize(deps, {"run_id": run["id"]})
                touched.append({"run_id": run["id"], "action": "finished"})
    return touched


async def _last_progress(deps: Deps, run_id: str, run: Data) -> str:
    """When the run last showed life: created, prepared, or its newest chunk recorded."""
    latest = await deps.documents.query(Query(RUN_CHUNKS, where={"run_id": run_id}, limit=1,
                                              order_by=(Order("created_at", descending=True),),
                                              select=("created_at",)))
    return max([run["created_at"], run.get("started_at") or ""] + [c.data["created_at"] for c in latest])


def _collect(rows: CandidateRows, result: Data) -> None:
    row_id = result["row_id"]
    if result["status"] == "failed":
        rows.failed.add(row_id)
        rows.scores[row_id] = None
        return
    rows.scores[row_id] = result["score"]
    if result["latency_ms"] is not None:
        rows.latencies_ms.append(result["latency_ms"])
    rows.tokens += result["tokens"] or 0
    if result["cost_usd"] is not None:
        rows.cost_usd += result["cost_usd"]
        rows.cost_known = True


async def _apply_ranking(deps: Deps, run: Data, ranking: list[Data], winner: str | None) -> None:
    board = await deps.documents.get(LEADERBOARDS, run["leaderboard_id"])
    if board is None:
        return
    changes: Data = {"latest_ranking": {"run_id": run["id"], "ranking": ranking, "at": now_iso(deps)}}
    if board.data.get("chosen_model_strategy", "ranking_winner") == "ranking_winner" and winner:
        changes["chosen_leaderboard_model_id"] = winner
    await deps.documents.update(LEADERBOARDS, run["leaderboard_id"], changes)
