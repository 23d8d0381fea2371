"""Runtime family routes for single rows of a PUSH dataset: list, read, edit, soft delete, restore."""

from __future__ import annotations

from typing import Any

import orjson

from shared.auth import scopes as S
from shared.domain.push_rows import MAX_METADATA_BYTES
from shared.errors import InvalidInput
from shared.http.routes import Answer, Call, Route
from shared.schemas.dataset_items import DatasetItemPublic, DatasetItemUpdate, ItemPage, ItemQuery
from shared.services import dataset_items
from shared.services.dataset_items import ItemFilters

ITEMS = "/v1/leaderboard/{leaderboard_id}/dataset/items"
ITEM = ITEMS + "/{dataset_item_id}"


def _tagged(item: dict[str, Any]) -> Answer:
    return Answer(item, {"ETag": f'"{item["version"]}"'})


async def list_items(call: Call[None]) -> dict[str, Any]:
    query: ItemQuery = call.query
    filters = ItemFilters(search=query.search, golden=query.golden, source=query.source,
                          has_expected=query.has_expected, pushed_after=query.pushed_after,
                          pushed_before=query.pushed_before, deleted=query.deleted, order_by=query.order_by)
    return await dataset_items.list_items(call.deps, call.workspace_id, call.path["leaderboard_id"], filters,
                                          query.limit, query.offset)


async def get_item(call: Call[None]) -> Answer:
    return _tagged(await dataset_items.get_item(call.deps, call.workspace_id, call.path["leaderboard_id"],
                                                call.path["dataset_item_id"]))


def _if_match(call: Call[Any], version: str | None = None) -> str | None:
    return dataset_items.stripped(call.request.headers.get("if-match")) or version


async def patch_item(call: Call[DatasetItemUpdate]) -> Answer:
    values = {name: value for name, value in call.body.given().items() if name != "version"}
    if "metadata" in values:
        values["metadata"] = values["metadata"] or {}
        if len(orjson.dumps(values["metadata"])) > MAX_METADATA_BYTES:
            raise InvalidInput.field("metadata", f"at most {MAX_METADATA_BYTES} bytes of JSON")

    def change(edit, now: str, item: dict[str, Any]) -> bool:
        edit.change(values, now)
        return True

    return _tagged(await dataset_items.edit_item(call.deps, call.workspace_id, call.path["leaderboard_id"],
                                                 call.path["dataset_item_id"], change, _if_match(call, call.body.version)))


async def delete_item(call: Call[None]) -> Answer:
    def change(edit, now: str, item: dict[str, Any]) -> bool:
        if item["deleted_at"]:
            return False  # deleting twice keeps the first time
        edit.delete(now)
        return True

    return _tagged(await dataset_items.edit_item(call.deps, call.workspace_id, call.path["leaderboard_id"],
                                                 call.path["dataset_item_id"], change, _if_match(call)))


async def restore_item(call: Call[None]) -> Answer:
    def change(edit, now: str, item: dict[str, Any]) -> bool:
        if not item["deleted_at"]:
            return False
        edit.restore(now)
        return True

    return _tagged(await dataset_items.edit_item(call.deps, call.workspace_id, call.path["leaderboard_id"],
                                                 call.path["dataset_item_id"], change, _if_match(call)))


ROUTES: list[Route] = [
    Route("GET", ITEMS, list_items,
          "Dataset items: the current version's rows, its deleted rows on request, then pending pushes; edits applied",
          scopes=(S.LEADERBOARDS_READ,), query=ItemQuery, response=ItemPage, errors=(409,)),
    Route("GET", ITEM, get_item, "One dataset item, pending edit applied (ETag: its version)",
          scopes=(S.LEADERBOARDS_READ,), response=DatasetItemPublic, errors=(409,)),
    Route("PATCH", ITEM, patch_item,
          "Change an item's input, expected, metadata or golden flag (If-Match: its version; folded into the next "
          "dataset version)",
          scopes=(S.LEADERBOARDS_WRITE,), body=DatasetItemUpdate, response=DatasetItemPublic, errors=(409, 412)),
    Route("DELETE", ITEM, delete_item,
          "Soft delete: the item leaves the next version, and a push of the same row stays out until it is restored",
          scopes=(S.LEADERBOARDS_WRITE,), response=DatasetItemPublic, errors=(409, 412)),
    Route("POST", ITEM + "/restore", restore_item, "Undo a soft delete (the row returns with the next version)",
          scopes=(S.LEADERBOARDS_WRITE,), response=DatasetItemPublic, errors=(409, 412)),
]
