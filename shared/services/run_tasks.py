"""The queued work of a run: prepare the snapshot, call and score each candidate chunk by chunk, rank.

Every task is idempotent, because a queue may deliver it twice:
- prepare writes the row snapshot once (a run that has `chunks` is prepared);
- a chunk writes its results blob once (create-only) and then records a chunk document
  (create-only); a redelivered chunk finds them and only re-sends what follows it;
- completion is noticed by counting chunk documents, never by a counter every chunk
  writes; finalize is queued under one name and does nothing for a finished run.

Each candidate has one chunk in flight at a time, with `candidate_concurrency` model
calls in it, and queues its next chunk when done, so candidates run side by side and a
slow provider never holds up another. Rows are evaluated in `run_rows`.
"""

from __future__ import annotations

import contextlib

import orjson

from shared.domain import scoring
from shared.domain.leaderboard import Leaderboard
from shared.domain.ranking import CandidateRows, rank
from shared.domain.run import Run, RunChunk, chunk_id
from shared.domain.times import iso
from shared.errors import InvalidInput, NotFoundError
from shared.ports import AlreadyExists, Data, Deps, NotFound, PreconditionFailed
from shared.services import annotations, auto_labels, run_rows
from shared.services.consolidation import row_digest
from shared.services.datasets import dataset_rows, limited
from shared.services.outbound import DatasetUnavailable
from shared.services.runs import CHUNK_TASK, FINALIZE_TASK, result_key, rows_key
from shared.stores.leaderboards import Candidates, Leaderboards
from shared.stores.runs import RunChunks, Runs


async def prepare(deps: Deps, payload: Data) -> None:
    runs = Runs(deps.documents)
    run = await runs.get(payload["run_id"])
    if run is None or run.finished:
        return
    if not run.prepared:
        board = await Leaderboards(deps.documents).get(run.leaderboard_id)
        if board is None:
            await fail(deps, run, "The leaderboard was deleted.")
            return
        try:
            run = await _snapshot(deps, run, board)
        except (DatasetUnavailable, InvalidInput) as exc:
            await fail(deps, run, f"Dataset unavailable: {getattr(exc, 'message', exc)}")
            return
        if run.rows == 0:
            await fail(deps, run, "The dataset has no usable rows.")
            return
    for candidate_id in run.candidate_ids:
        await _queue_chunk(deps, run.id, candidate_id, 0)


async def fail(deps: Deps, run: Run, error: str) -> None:
    at = iso(deps.clock.now())
    await Runs(deps.documents).change(run.id, lambda current: current.fail(error, at))


async def _snapshot(deps: Deps, run: Run, board: Leaderboard) -> Run:
    """Freeze the rows this run evaluates into chunk blobs, so every chunk sees the same data."""
    rows, description = await dataset_rows(deps, board)
    if run.dataset_limit:
        rows = limited(rows, run.dataset_limit)
    # improve-dataset runs use the labels they just made, whatever the leaderboard's default
    use_labels = board.dataset_auto_labels or run.improve
    labels = await auto_labels.labels_for(deps, board.id, description) if use_labels else {}
    size = chunk_size(deps.settings.run_chunk_rows, deps.settings.candidate_concurrency)
    buffer: list[bytes] = []
    count = chunks = dropped = 0
    seen: set[bytes] = set()
    async for row in rows:
        if not row.get("expected") and row["id"] in labels:
            row = {**row, "expected": labels[row["id"]], "auto_label": True}
        if run.improve:
            # improve-dataset runs leave out empty and repeated rows
            digest = row_digest(row if row.get("id") is None else {**row, "id": None})
            if not row["input"].strip() or digest in seen:
                dropped += 1
                continue
            seen.add(digest)
        buffer.append(orjson.dumps(row, option=orjson.OPT_APPEND_NEWLINE))
        count += 1
        if len(buffer) == size:
            await deps.blobs.put(rows_key(run.id, chunks), b"".join(buffer), content_type="application/x-ndjson")
            buffer, chunks = [], chunks + 1
    if buffer:
        await deps.blobs.put(rows_key(run.id, chunks), b"".join(buffer), content_type="application/x-ndjson")
        chunks += 1
    started_at = iso(deps.clock.now())

    def started(current: Run) -> None:
        current.dataset = {**description, "auto_labels": len(labels), "dropped_rows": dropped}
        current.rows, current.chunks, current.chunk_rows = count, chunks, size
        if not current.finished:  # cancelled meanwhile: stays cancelled
            current.status, current.started_at = "running", started_at

    return await Runs(deps.documents).change(run.id, started)


def chunk_size(rows: int, concurrency: int) -> int:
    """Rows per chunk: `rows` rounded up to whole rounds of `concurrency` calls, at least 4 rounds.

    A chunk's calls drain to none in flight before the next chunk starts, so a partial last
    round leaves slots idle for a whole call: at 16 in flight, 100-row chunks take 7 rounds
    for 6.25 rounds of work, 12% more time per row than 112-row chunks in the same 7 rounds.
    """
    return max(-(-rows // concurrency), 4) * concurrency


async def _queue_chunk(deps: Deps, run_id: str, candidate_id: str, chunk: int) -> None:
    await deps.queue.enqueue(CHUNK_TASK, {"run_id": run_id, "candidate_id": candidate_id, "chunk": chunk},
                             name=f"{run_id}-{candidate_id}-{chunk}")


async def run_chunk(deps: Deps, payload: Data) -> None:
    run = await Runs(deps.documents).get(payload["run_id"])
    if run is None or run.finished:
        return
    candidate_id, chunk = payload["candidate_id"], payload["chunk"]
    records = RunChunks(deps.documents)
    if await records.get(chunk_id(run.id, candidate_id, chunk)) is None:
        results = await _results(deps, run, candidate_id, chunk)
        record = RunChunk(id=chunk_id(run.id, candidate_id, chunk), run_id=run.id, workspace_id=run.workspace_id,
                          candidate_id=candidate_id, chunk=chunk, items=len(results),
                          failed=sum(r["status"] == "failed" for r in results), created_at=iso(deps.clock.now()))
        try:
            await records.create(record)
        except AlreadyExists:
            pass  # a twin delivery recorded it first; the results blob is the same one
    if chunk + 1 < (run.chunks or 0):
        await _queue_chunk(deps, run.id, candidate_id, chunk + 1)
    if await records.count(run.id) >= (run.chunks or 0) * len(run.candidate_ids):
        await deps.queue.enqueue(FINALIZE_TASK, {"run_id": run.id}, name=f"{run.id}-finalize")


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
    return [orjson.loads(line) for line in data.splitlines() if line.strip()]


async def _results(deps: Deps, run: Run, candidate_id: str, chunk: int) -> list[Data]:
    """This chunk's results: read back if a previous delivery stored them, else computed and stored."""
    key = result_key(run.id, candidate_id, chunk)
    stored = await _jsonl(deps, key, required=False)
    if stored is not None:
        return stored
    board = await Leaderboards(deps.documents).get(run.leaderboard_id)
    if board is None:
        raise NotFound(f"leaderboard {run.leaderboard_id} of run {run.id}")  # retried; the reaper ends the run
    candidate = await Candidates(deps.documents).get(candidate_id)
    rows = await _jsonl(deps, rows_key(run.id, chunk))
    results = await run_rows.evaluate(deps, run, board, candidate, rows)
    body = b"".join(orjson.dumps(result, option=orjson.OPT_APPEND_NEWLINE) for result in results)
    try:
        await deps.blobs.put(key, body, if_generation=0, content_type="application/x-ndjson")
    except PreconditionFailed:
        return await _jsonl(deps, key)  # a twin delivery stored its results first: use those
    return results


async def finalize(deps: Deps, payload: Data) -> None:
    run = await Runs(deps.documents).get(payload["run_id"])
    if run is None or run.finished:
        return
    candidates = {cid: CandidateRows(cid) for cid in run.candidate_ids}
    human = await annotations.scores(deps, run.id) if run.eval_type == "human" else {}
    waiting: list[Data] = []
    for cid, rows in candidates.items():
        for chunk in range(run.chunks or 0):
            for result in await _chunk_results_or_failures(deps, run, cid, chunk):
                if result["status"] == "pending_human":
                    result["score"] = human.get((cid, result["row_id"]))
                    if result["score"] is None:
                        waiting.append(result)
                _collect(rows, result)
    if waiting:
        await annotations.open_annotations(deps, run, waiting)
    ranking = rank(list(candidates.values()), scoring.PASS_THRESHOLD)
    winner = ranking[0]["candidate_id"] if ranking and ranking[0]["mean_score"] is not None else None
    at = iso(deps.clock.now())
    ranked_now = False

    def ranked(current: Run) -> None:
        nonlocal ranked_now
        ranked_now = not current.finished  # cancelled, or ranked by a twin delivery, meanwhile: leave it
        if ranked_now:
            current.ranked(ranking, winner, bool(waiting), at)

    run = await Runs(deps.documents).change(run.id, ranked)
    if ranked_now and run.status == "completed":
        with contextlib.suppress(NotFoundError):  # the leaderboard was deleted meanwhile
            await Leaderboards(deps.documents).change(
                run.leaderboard_id, lambda board: board.record_ranking(run.id, ranking, winner, at))


async def _chunk_results_or_failures(deps: Deps, run: Run, candidate_id: str, chunk: int) -> list[Data]:
    """A chunk's results; a chunk that never finished (a reaped run) counts its rows as failed."""
    stored = await _jsonl(deps, result_key(run.id, candidate_id, chunk), required=False)
    if stored is not None:
        return stored
    return [run_rows.failed(row, "The chunk never finished (its tasks ran out of retries).", candidate_id)
            for row in await _jsonl(deps, rows_key(run.id, chunk))]


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
