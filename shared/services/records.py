"""Workspace-scoped document helpers shared by the services."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from shared.ports import Deps
from shared.errors import NotFoundError
from shared.ports import Data, Order, Query

WORKSPACES = "workspaces"
WORKSPACE_NAMES = "workspace_names"
API_TOKENS = "api_tokens"
LEADERBOARDS = "leaderboards"
CANDIDATES = "leaderboard_models"
MODELS = "models"
RUNS = "runs"
PUSH_TOKENS = "push_tokens"
PUSH_BATCHES = "push_batches"
PUSH_QUOTA = "push_quota_shards"
PUSH_DATASETS = "push_datasets"

NEWEST_FIRST = (Order("created_at", descending=True),)


def iso(moment: datetime) -> str:
    """The ISO-8601 UTC form every document stores (fixed width, so it sorts as text)."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def parse_iso(stamp: str) -> datetime:
    """The moment a stored ISO-8601 UTC string names."""
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def now_iso(deps: Deps) -> str:
    return iso(deps.clock.now())


async def get_owned(deps: Deps, collection: str, doc_id: str, workspace_id: str, what: str) -> Data:
    """The document if it belongs to the workspace; otherwise exactly like a missing one."""
    doc = await deps.documents.get(collection, doc_id)
    if doc is None or doc.data.get("workspace_id") != workspace_id:
        raise NotFoundError(f"{what} {doc_id} not found.")
    return doc.data


async def page(
    deps: Deps, collection: str, where: dict[str, Any], limit: int, offset: int,
    order: tuple[Order, ...] = NEWEST_FIRST,
) -> tuple[list[Data], int]:
    """One page of matching documents and the total count."""
    query = Query(collection, where=where, order_by=order, limit=limit, offset=offset)
    docs = await deps.documents.query(query)
    return [doc.data for doc in docs], await deps.documents.count(query)


async def all_of(deps: Deps, collection: str, where: dict[str, Any]) -> list[Data]:
    """Every matching document, oldest first (for small, bounded sets such as candidates)."""
    docs = await deps.documents.query(Query(collection, where=where, order_by=(Order("created_at"),)))
    return [doc.data for doc in docs]
