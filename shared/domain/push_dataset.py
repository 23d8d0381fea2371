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
    rows: int = 0
    consolidated_accepted: int = 0  # accepted rows ever folded in: pending = accepted - this
    consolidated_at: str | None = None
    # Whether this version's batches are marked consolidated; a crash before that is
    # repaired by the next consolidation, which marks them first.
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
