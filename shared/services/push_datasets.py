"""PUSH datasets: accept webhook rows, report status, consolidate now or when due.

A push is one transaction that takes its quota and stores one pending batch document
(its rows, and its response for replays); see push_quota for how quotas stay exact and
consolidation for how batches become dataset versions.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from datetime import timedelta
from typing import Any

from shared.domain.leaderboard import Leaderboard
from shared.domain.push_dataset import PushBatch, PushDataset
from shared.domain.push_rows import MAX_ROWS_PER_REQUEST, Rejection, normalize, rows_of
from shared.domain.times import iso, parse_iso
from shared.errors import ConflictError, InvalidInput, TooLarge
from shared.ports import AlreadyExists, Data, Deps, Transaction, Unavailable
from shared.services import push_quota
from shared.services.consolidation import Outcome, consolidate, row_digest
from shared.services.push_tokens import count_active_push_tokens
from shared.stores.leaderboards import Leaderboards
from shared.stores.push_datasets import DatasetEdits, PushBatches, PushDatasets

BATCH_IDS = uuid.UUID("6f1c5d3e-2a7b-4c1e-9f0a-3b8d2e4c6a10")  # namespace of derived batch ids
CONSOLIDATE_TASK = "consolidate_push_dataset"
log = logging.getLogger(__name__)
# A pending batch is one document, and a Firestore document holds at most 1 MiB.
MAX_PUSH_BODY_BYTES = 768 * 1024
# How long item edits gather before one consolidation folds them all into a new version.
EDIT_FOLD_SECONDS = 300


async def push_board(deps: Deps, workspace_id: str, leaderboard_id: str) -> Leaderboard:
    """The leaderboard, if it is a PUSH leaderboard of this workspace."""
    return await Leaderboards(deps.documents).get_push(leaderboard_id, workspace_id)


def _digest(body: Any) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
                          ).hexdigest()


def _batch_id(board: Leaderboard, digest: str | None, idempotency_key: str | None) -> str:
    """Retries must land on the same batch: by Idempotency-Key, or by content when deduping."""
    if idempotency_key:
        return str(uuid.uuid5(BATCH_IDS, f"{board.id}\x00key\x00{idempotency_key}"))
    if board.dedupe:
        # Identical content would be deduplicated anyway, so a replay may as well be one.
        return str(uuid.uuid5(BATCH_IDS, f"{board.id}\x00body\x00{digest}"))
    return str(uuid.uuid4())


async def _pointer(deps: Deps, board: Leaderboard) -> PushDataset:
    """The dataset's current version (an empty one before the first consolidation)."""
    found = await PushDatasets(deps.documents).get(board.id)
    return found or PushDataset(id=board.id, workspace_id=board.workspace_id, leaderboard_id=board.id)


async def pending_events(deps: Deps, board: Leaderboard, pointer: PushDataset | None = None) -> int:
    """Rows accepted and not yet consolidated."""
    accepted = await push_quota.accepted_total(deps, board.id)
    pointer = pointer or await _pointer(deps, board)
    return max(0, accepted - pointer.consolidated_accepted)


async def push(deps: Deps, workspace_id: str, leaderboard_id: str, body: Any,
               idempotency_key: str | None = None) -> tuple[Data, bool]:
    """Accept what fits of the pushed rows; returns the response body and whether it is a replay.

    The quota and the batch are written in one transaction: a crash at any point leaves
    either both (the rows are stored and counted) or neither (a retry starts afresh).
    """
    board = (await push_board(deps, workspace_id, leaderboard_id)).require_unarchived("pushing rows")
    try:
        raws = rows_of(body)
    except ValueError as exc:
        raise InvalidInput(str(exc), details=[{"field": "rows", "message": str(exc)}]) from None
    if len(raws) > MAX_ROWS_PER_REQUEST:
        raise TooLarge(f"A push carries at most {MAX_ROWS_PER_REQUEST} rows; this one has {len(raws)}.",
                       code="too_many_rows")
    # Only a deterministic batch id can be pushed twice, so only then is the body's digest kept
    # to tell a retry from a different body under the same key.
    digest = _digest(body) if idempotency_key or board.dedupe else None
    batch_id = _batch_id(board, digest, idempotency_key)
    now = iso(deps.clock.now())
    rows, rejections = _normalized(raws, now, board.dedupe)
    pointer = await _pointer(deps, board)
    pending = await pending_events(deps, board, pointer)
    if rows and not board.auto_limit_size:
        room = board.max_samples_to_gather - pointer.rows - pending
        rows, rejections = _refuse_beyond(rows, max(0, room), "dataset_full",
                                          "The dataset reached max_samples_to_gather.", rejections)
    limits = push_quota.Limits(board.daily_event_limit, board.monthly_event_limit)
    periods = push_quota.periods(deps)

    async def store(tx: Transaction) -> Data:
        # Run again on contention, so it only reads and writes through `tx`. A batch id that
        # is taken (a retry, or a deduplicated replay) fails the whole commit, quota included.
        granted = await push_quota.take(tx, workspace_id, leaderboard_id, len(rows), limits, periods)
        kept, refused = _refuse_beyond(rows, granted, "quota_exceeded",
                                       "The daily or monthly event limit is reached.", rejections)
        response = _response(board, batch_id, len(kept), refused, pending + granted)
        if kept:
            tx.create(PushBatches.collection, batch_id, PushBatch(
                id=batch_id, workspace_id=workspace_id, leaderboard_id=leaderboard_id, created_at=now,
                row_count=len(kept), rows=[row for _, row in kept], response=response, body_digest=digest).stored())
        return response

    try:
        response = await deps.documents.run_transaction(store)
    except AlreadyExists:
        earlier = await PushBatches(deps.documents).get(batch_id)
        if earlier is None:
            raise
        return _replay(earlier, digest), True
    if not response["accepted_rows"] and (idempotency_key or board.dedupe):
        # Nothing fit this time, which is no reason to refuse a retry of a push that was stored.
        earlier = await PushBatches(deps.documents).get(batch_id)
        if earlier is not None:
            return _replay(earlier, digest), True
    if response["accepted_rows"] and response["consolidation"]["should_consolidate"] and board.consolidates_automatically:
        await _enqueue_consolidation(deps, board, pointer)
    return response, False


def _replay(earlier: PushBatch, digest: str | None) -> Data:
    """The stored answer to the push this one repeats, if it really repeats it."""
    if earlier.body_digest not in (None, digest):
        raise InvalidInput("This Idempotency-Key was used for a different body; use a new key for new rows.",
                           code="idempotency_key_reused",
                           details=[{"field": "Idempotency-Key", "message": "used before with another body"}])
    return earlier.response


def _normalized(raws: list[Any], pushed_at: str, dedupe: bool) -> tuple[list[tuple[int, Data]], list[Rejection]]:
    rows: list[tuple[int, Data]] = []
    rejections: list[Rejection] = []
    seen: set[bytes] = set()
    for index, raw in enumerate(raws):
        result = normalize(raw, index, pushed_at)
        if isinstance(result, Rejection):
            rejections.append(result)
            continue
        if dedupe:
            digest = row_digest(result)
            if digest in seen:
                rejections.append(Rejection(index, "duplicate", "The same row appears earlier in this push."))
                continue
            seen.add(digest)
        rows.append((index, result))
    return rows, rejections


def _refuse_beyond(rows: list[tuple[int, Data]], keep: int, reason: str, message: str,
                   rejections: list[Rejection]) -> tuple[list[tuple[int, Data]], list[Rejection]]:
    refused = [Rejection(index, reason, message) for index, _ in rows[keep:]]
    return rows[:keep], sorted(rejections + refused, key=lambda r: r.index)


def _response(board: Leaderboard, batch_id: str, accepted: int, rejections: list[Rejection], pending: int) -> Data:
    status = "accepted" if not rejections else "partial" if accepted else "rejected"
    body: Data = {
        "accepted_rows": accepted, "rejected_rows": len(rejections), "status": status,
        "batch_id": batch_id, "pending_events": pending,
        "limits": {"daily_event_limit": board.daily_event_limit, "monthly_event_limit": board.monthly_event_limit,
                   "max_samples_to_gather": board.max_samples_to_gather},
        "consolidation": {"should_consolidate": pending >= board.consolidate_every_events},
    }
    if rejections:
        body["rejections"] = [{"index": r.index, "reason": r.reason, "message": r.message} for r in rejections]
    return body


async def _enqueue_consolidation(deps: Deps, board: Leaderboard, pointer: PushDataset, delay: float = 0) -> None:
    """Ask for a consolidation (now, or after `delay` seconds); if the queue is down, consolidate-due does it.

    The rows are stored by then, so a queue outage must not turn the push into an error
    (the client would retry and, without an Idempotency-Key, push its rows twice).
    """
    try:
        # One queued consolidation per dataset version, however many pushes and edits ask for it.
        await deps.queue.enqueue(CONSOLIDATE_TASK, {"workspace_id": board.workspace_id, "leaderboard_id": board.id},
                                 name=f"consolidate-{board.id}-v{pointer.version}", delay_seconds=delay)
    except Unavailable as exc:
        log.warning("consolidation of %s left to consolidate-due: %s", board.id, exc)


async def fold_edits_soon(deps: Deps, board: Leaderboard) -> None:
    """After an item edit: one consolidation per version, EDIT_FOLD_SECONDS after the first edit asked.

    Every edit made meanwhile is folded by that one rewrite of the dataset file.
    """
    if board.consolidates_automatically:
        await _enqueue_consolidation(deps, board, await _pointer(deps, board), delay=EDIT_FOLD_SECONDS)


async def consolidate_task(deps: Deps, payload: Data) -> None:
    board = await Leaderboards(deps.documents).get(payload["leaderboard_id"])
    if board is None or not board.is_push:
        return
    try:
        await consolidate(deps, board)
    except ConflictError:
        pass  # another run consolidated this version; the rows are in


async def consolidate_now(deps: Deps, workspace_id: str, leaderboard_id: str) -> Outcome:
    return await consolidate(deps, await push_board(deps, workspace_id, leaderboard_id))


async def _oldest_pending(deps: Deps, leaderboard_id: str) -> str | None:
    oldest = await deps.documents.query(PushBatches(deps.documents).pending(leaderboard_id, limit=1,
                                                                            select=("created_at",)))
    return oldest[0].data["created_at"] if oldest else None


async def status(deps: Deps, workspace_id: str, leaderboard_id: str) -> Data:
    board = await push_board(deps, workspace_id, leaderboard_id)
    usage = await push_quota.usage(deps, leaderboard_id)
    pointer = await _pointer(deps, board)
    pending = max(0, usage.accepted_total - pointer.consolidated_accepted)
    oldest = await _oldest_pending(deps, leaderboard_id)
    due_at = iso(parse_iso(oldest) + timedelta(hours=board.consolidate_every_hours)) if oldest else None
    return {
        "leaderboard_id": leaderboard_id, "pending_events": pending,
        "consolidated_rows": pointer.rows, "dataset_version": pointer.version,
        "consolidated_at": pointer.consolidated_at, "deleted_rows": pointer.deleted_rows,
        "pending_edits": await deps.documents.count(DatasetEdits(deps.documents).of_board(leaderboard_id)),
        "quota": {"daily_event_limit": board.daily_event_limit, "used_today": usage.today,
                  "remaining_today": max(0, board.daily_event_limit - usage.today),
                  "monthly_event_limit": board.monthly_event_limit, "used_this_month": usage.this_month,
                  "remaining_this_month": max(0, board.monthly_event_limit - usage.this_month)},
        "max_samples_to_gather": board.max_samples_to_gather, "auto_limit_size": board.auto_limit_size,
        "dedupe": board.dedupe,
        "next_consolidation": {"every_events": board.consolidate_every_events,
                               "every_hours": board.consolidate_every_hours,
                               "oldest_pending_at": oldest, "due_by_age_at": due_at,
                               "due_now": bool(oldest) and (pending >= board.consolidate_every_events
                                                            or parse_iso(due_at) <= deps.clock.now())},
        "active_push_tokens": await count_active_push_tokens(deps, leaderboard_id),
    }


async def consolidate_due(deps: Deps) -> list[Data]:
    """Consolidate every dataset whose pending rows reached its event or age threshold.

    Only pending batches are scanned (their small fields), so the cost follows the
    backlog, not the number of leaderboards.
    """
    backlog: dict[str, dict[str, Any]] = {}
    offset = 0
    while True:
        page = await deps.documents.query(PushBatches(deps.documents).pending(
            limit=1000, offset=offset, select=("leaderboard_id", "row_count", "created_at")))
        for doc in page:
            entry = backlog.setdefault(doc.data["leaderboard_id"], {"rows": 0, "oldest": doc.data["created_at"]})
            entry["rows"] += doc.data["row_count"]
        if len(page) < 1000:
            break
        offset += len(page)
    edited = await _edited_boards(deps)
    summary = []
    now = deps.clock.now()
    for leaderboard_id in {**backlog, **dict.fromkeys(edited)}:
        board = await Leaderboards(deps.documents).get(leaderboard_id)
        if board is None or not board.consolidates_automatically:
            continue
        entry = backlog.get(leaderboard_id, {"rows": 0, "oldest": iso(now)})
        old = now - parse_iso(entry["oldest"]) >= timedelta(hours=board.consolidate_every_hours)
        if entry["rows"] < board.consolidate_every_events and not old and leaderboard_id not in edited:
            continue
        reason = "events" if entry["rows"] >= board.consolidate_every_events else "age" if old else "edits"
        try:
            outcome = (await consolidate(deps, board)).as_json()
        except ConflictError as exc:
            outcome = {"leaderboard_id": leaderboard_id, "changed": False, "error": exc.code}
        summary.append({**outcome, "reason": reason, "pending_rows": entry["rows"]})
    return summary


async def _edited_boards(deps: Deps) -> set[str]:
    """Leaderboards with an item edit waiting for longer than EDIT_FOLD_SECONDS (the queued fold missed it)."""
    due_before = iso(deps.clock.now() - timedelta(seconds=EDIT_FOLD_SECONDS))
    boards: set[str] = set()
    offset = 0
    while True:
        page = await deps.documents.query(DatasetEdits(deps.documents).every(
            limit=1000, offset=offset, select=("leaderboard_id", "created_at")))
        boards.update(doc.data["leaderboard_id"] for doc in page if doc.data["created_at"] <= due_before)
        if len(page) < 1000 or page[-1].data["created_at"] > due_before:
            return boards
        offset += len(page)
