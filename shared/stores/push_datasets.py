"""PUSH datasets: the version pointers, the pending batches, the pending item edits, and the push tokens."""

from __future__ import annotations

from typing import Any

from shared.domain.dataset_items import DatasetEdit
from shared.domain.push_dataset import PushBatch, PushDataset
from shared.domain.workspace import PushToken
from shared.ports import Order, Query
from shared.stores.base import Store


class PushDatasets(Store[PushDataset]):
    collection, aggregate, label = "push_datasets", PushDataset, "Push dataset"


class PushBatches(Store[PushBatch]):
    collection, aggregate, label = "push_batches", PushBatch, "Push batch"

    def pending(self, leaderboard_id: str | None = None, **window: Any) -> Query:
        """Pending batches (of one leaderboard, or all), oldest first."""
        where = {"state": "pending", **({"leaderboard_id": leaderboard_id} if leaderboard_id else {})}
        return Query(self.collection, where=where, order_by=(Order("created_at"),), **window)


class DatasetEdits(Store[DatasetEdit]):
    """Item edits not yet folded into a version; folding deletes them, so every stored one is pending."""

    collection, aggregate, label = "dataset_edits", DatasetEdit, "Dataset item edit"

    def of_board(self, leaderboard_id: str, **window: Any) -> Query:
        return Query(self.collection, where={"leaderboard_id": leaderboard_id}, **window)

    def every(self, **window: Any) -> Query:
        """Pending edits of every dataset, oldest first (what consolidate-due scans)."""
        return Query(self.collection, order_by=(Order("created_at"),), **window)


class PushTokens(Store[PushToken]):
    collection, aggregate, label = "push_tokens", PushToken, "Push token"

    def active(self, leaderboard_id: str) -> Query:
        return Query(self.collection, where={"leaderboard_id": leaderboard_id, "revoked_at": None})
