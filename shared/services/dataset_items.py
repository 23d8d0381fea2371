"""Dataset items: list, read, edit, delete and restore single rows of a PUSH dataset.

An edit is stored as a `DatasetEdit` (see shared.domain.dataset_items) and answered at
once with the edit applied; a consolidation queued EDIT_FOLD_SECONDS later (or the next
consolidate-due, or POST /dataset/consolidate) writes every pending edit into one new
version. Runs and downloads read versions, so they see an edit from that version on.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from shared.domain.dataset_items import DatasetEdit, edit_id, public_item
from shared.domain.leaderboard import Leaderboard
from shared.domain.times import iso
from shared.errors import InvalidInput, NotFoundError, StaleVersion
from shared.ports import AlreadyExists, Deps, NotFound, PreconditionFailed
from shared.services import item_scan
from shared.services.item_edits import pending_edits
from shared.services.push_datasets import fold_edits_soon, push_board
from shared.stores.push_datasets import DatasetEdits, PushDatasets

EDIT_ATTEMPTS = 5
MAX_SORTED_WINDOW = 10_000  # offset + limit when the order is not the dataset's own (held in memory)


@dataclass(frozen=True)
class ItemFilters:
    search: str | None = None
    golden: bool | None = None
    source: str | None = None
    has_expected: bool | None = None
    pushed_after: str | None = None
    pushed_before: str | None = None
    deleted: str = "exclude"  # exclude, include, only
    order_by: str = "position"  # position, -position, pushed_at, -pushed_at, id, -id

    def keeps(self, item: dict[str, Any]) -> bool:
        if self.deleted == "exclude" and item["deleted_at"] or self.deleted == "only" and not item["deleted_at"]:
            return False
        if self.search is not None and not any(self.search in (item[name] or "").lower()
                                               for name in ("input", "expected")):
            return False
        pushed = item["pushed_at"] or ""
        return ((self.golden is None or item["golden"] == self.golden)
                and (self.source is None or item["source"] == self.source)
                and (self.has_expected is None or (item["expected"] is not None) == self.has_expected)
                and (self.pushed_after is None or pushed >= self.pushed_after)
                and (self.pushed_before is None or pushed < self.pushed_before))

    def prefilter(self) -> bytes | None:
        """Bytes every matching unedited line holds, when the search term allows a byte test."""
        if self.search is None or not self.search.isascii() or not self.search.isprintable() \
                or any(ch in self.search for ch in '"\\/'):
            return None
        return self.search.encode()


async def list_items(deps: Deps, workspace_id: str, leaderboard_id: str, filters: ItemFilters, limit: int,
                     offset: int) -> dict[str, Any]:
    """One page of items; `count` is null when the page was found before the end of the dataset."""
    board = await push_board(deps, workspace_id, leaderboard_id)
    if filters.order_by != "position" and offset + limit > MAX_SORTED_WINDOW:
        raise InvalidInput.field("offset", f"with order_by={filters.order_by}, offset + limit is at most "
                                           f"{MAX_SORTED_WINDOW}; use order_by=position to page further")
    pointer = await PushDatasets(deps.documents).get(board.id)
    edits = await pending_edits(deps, board.id)
    version = pointer.version if pointer else 0
    matches = _matching(deps, pointer, board.id, edits, filters, version)
    if filters.order_by == "position":
        page, count, more = await _in_order(matches, offset, limit)
    else:
        page, count, more = await _sorted(matches, filters.order_by, offset, limit)
    return {"data": page, "count": count, "limit": limit, "offset": offset, "has_more": more,
            "dataset_version": version, "pending_edits": len(edits)}


async def _matching(deps: Deps, pointer, leaderboard_id: str, edits: dict[str, DatasetEdit], filters: ItemFilters,
                    version: int):
    search = filters.search
    lowered = ItemFilters(**{**filters.__dict__, "search": search.lower() if search else None})
    async for found in item_scan.every_row(deps, pointer, leaderboard_id, edits, lowered.prefilter()):
        item = public_item(found.row, found.state, edits.get(str(found.row["id"])), version)
        if lowered.keeps(item):
            yield item


async def _in_order(matches, offset: int, limit: int) -> tuple[list[dict[str, Any]], int | None, bool]:
    page: list[dict[str, Any]] = []
    seen = 0
    async for item in matches:
        if seen >= offset + limit:
            await matches.aclose()
            return page, None, True
        if seen >= offset:
            page.append(item)
        seen += 1
    return page, seen, False


async def _sorted(matches, order_by: str, offset: int, limit: int) -> tuple[list[dict[str, Any]], int, bool]:
    field, descending = order_by.lstrip("-"), order_by.startswith("-")
    window = offset + limit
    count = 0
    if field == "position":
        last: deque[dict[str, Any]] = deque(maxlen=window)
        async for item in matches:
            last.append(item)
            count += 1
        ordered = list(reversed(last))
    else:
        keyed = []
        async for item in matches:
            keyed.append(((item[field] or "", count), item))
            count += 1
            if len(keyed) > 4 * window:  # keep memory to a few windows
                keyed = _best(keyed, window, descending)
        ordered = [item for _, item in _best(keyed, window, descending)]
    return ordered[offset:window], count, count > window


def _best(keyed: list, window: int, descending: bool) -> list:
    pick = heapq.nlargest if descending else heapq.nsmallest
    return pick(window, keyed, key=lambda pair: pair[0])


async def get_item(deps: Deps, workspace_id: str, leaderboard_id: str, item_id: str) -> dict[str, Any]:
    board = await push_board(deps, workspace_id, leaderboard_id)
    edit, found, version = await _current(deps, board, item_id)
    return public_item(found.row, found.state, edit, version)


async def _current(deps: Deps, board: Leaderboard, item_id: str) -> tuple[DatasetEdit | None, item_scan.Found, int]:
    """The item's pending edit, its stored row and the dataset version.

    The edit is read first: a fold that lands in between only means the row already carries it.
    """
    edit = await DatasetEdits(deps.documents).get(edit_id(board.id, item_id))
    pointer = await PushDatasets(deps.documents).get(board.id)
    found = await item_scan.find(deps, pointer, board.id, item_id)
    if found is None:
        raise NotFoundError(f"Dataset item {item_id} not found.")
    return edit, found, pointer.version if pointer else 0


Change = Callable[[DatasetEdit, str, dict[str, Any]], bool]


async def edit_item(deps: Deps, workspace_id: str, leaderboard_id: str, item_id: str, change: Change,
                    if_match: str | None) -> dict[str, Any]:
    """Record `change(edit, now, item)` in the item's pending edit, checked against the version the caller saw.

    `change` returns False when the item is already as asked (nothing is written then).
    """
    board = (await push_board(deps, workspace_id, leaderboard_id)).require_unarchived("editing dataset items")
    store = DatasetEdits(deps.documents)
    for _ in range(EDIT_ATTEMPTS):
        edit, found, version = await _current(deps, board, item_id)
        item = public_item(found.row, found.state, edit, version)
        if if_match is not None and if_match != item["version"]:
            raise StaleVersion(f"Item {item_id} is at version {item['version']}, not {if_match}; read it again.")
        now = iso(deps.clock.now())
        edit = edit or DatasetEdit(id=edit_id(board.id, item_id), workspace_id=board.workspace_id,
                                   leaderboard_id=board.id, item_id=item_id, created_at=now, updated_at=now)
        if not change(edit, now, item):
            return item
        first = edit.revision is None
        try:
            await store.save(edit)
        except (PreconditionFailed, AlreadyExists, NotFound):
            continue  # another edit, or a fold, got there first: read again and check the version again
        if first:  # a later edit of the same item finds its fold already asked for
            await fold_edits_soon(deps, board)
        return public_item(found.row, found.state, edit, version)
    raise StaleVersion(f"Item {item_id} kept changing while this request tried to change it; read it again.")


def stripped(tag: str | None) -> str | None:
    """An If-Match value without quotes or the weak prefix; `*` matches any version."""
    if tag is None:
        return None
    tag = tag.strip().removeprefix("W/").strip('"')
    return None if tag == "*" else tag
