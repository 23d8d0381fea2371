"""The PushDataset aggregate (the pointer to a PUSH leaderboard's current dataset version) and the
pending batches that pushes leave until consolidation folds them in."""

from __future__ import annotations

from typing import Any

from shared.domain.aggregate import Aggregate


class PushDataset(Aggregate):
    """The current version's blobs and counts; `id` is the leaderboard's id."""

    workspace_id: str
    leaderboard_id: str
    version: int = 0
    blob_key: str | None = None  # the JSONL rows
    keys_key: str | None = None  # a 16-byte digest per row, in the same order (for dedupe)
    manifest_key: str | None = None  # the ids of the batches this version consumed
    previous_blob_key: str | None = None
    # Deleted rows, kept out of the dataset file so they can be restored and never pushed back in
    deleted_key: str | None = None  # their JSONL, each with its `deleted_at`
    deleted_keys_key: str | None = None  # their 16-byte digests, in the same order
    deleted_rows: int = 0
    edits_key: str | None = None  # the item edits this version folded in: [[edit id, its revision], ...]
    rows: int = 0
    consolidated_accepted: int = 0  # accepted rows ever folded in: pending = accepted - this
    consolidated_at: str | None = None
    # Whether this version's batches are marked consolidated and its folded edits dropped; a
    # crash before that is repaired by the next consolidation, which does it first.
    marked: bool = False


class PushBatch(Aggregate):
    """One push's accepted rows, waiting (state `pending`) until a consolidation takes them."""

    workspace_id: str
    leaderboard_id: str
    state: str = "pending"  # pending, consolidated
    created_at: str
    row_count: int
    rows: list[dict[str, Any]]
    response: dict[str, Any]  # what the push answered, replayed to a retry
    body_digest: str | None = None  # a retry must send the same body as the push it repeats
