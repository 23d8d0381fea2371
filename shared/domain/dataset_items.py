"""Dataset items: one row of a PUSH dataset seen on its own, and the edits waiting to be folded into it.

A dataset version is an immutable JSONL file, so a change to one row is not written into
it on the spot: it is kept as a `DatasetEdit`, one small document per edited row holding
the row's new values (absolute, not deltas). Readers of items apply it at once; the next
consolidation writes the rows with their edits into a new version and drops the edits it
folded. Because an edit holds values rather than steps, applying it twice gives the same
row, which is what makes a consolidation that crashes halfway safe to repeat.

A deleted row leaves the dataset file for a file of deleted rows beside it (kept so the
row can be restored), and its identity stays reserved: a later push of the same row is
dropped, whatever the dedupe setting.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

import orjson
from pydantic import Field

from shared.domain.aggregate import Aggregate

EDITABLE = ("input", "expected", "metadata", "golden")
REF_FIELDS = ("ref_trace_id", "ref_timestamp", "ref_source_id")
ROW_ORDER = ("id", "input", "expected", "messages", "metadata", "pushed_at")
EDIT_IDS = uuid.UUID("3e8a4c21-5b7d-4f90-8a12-6c4d2e9b7f31")  # namespace of edit ids


class DatasetEdit(Aggregate):
    """The changes to one item since the version it was last folded into."""

    workspace_id: str
    leaderboard_id: str
    item_id: str
    changes: dict[str, Any] = Field(default_factory=dict)  # new values of EDITABLE fields
    deleted: bool | None = None  # True: delete, False: restore, None: leave as it is
    deleted_at: str | None = None
    created_at: str
    updated_at: str

    def change(self, values: dict[str, Any], now: str) -> None:
        self.changes.update(values)
        self.updated_at = now

    def delete(self, now: str) -> None:
        self.deleted, self.deleted_at, self.updated_at = True, now, now

    def restore(self, now: str) -> None:
        self.deleted, self.deleted_at, self.updated_at = False, None, now


def edit_id(leaderboard_id: str, item_id: str) -> str:
    """One edit document per item, so concurrent edits of one row meet on one version check."""
    return str(uuid.uuid5(EDIT_IDS, f"{leaderboard_id}\x00{item_id}"))


def in_file_order(row: dict[str, Any]) -> dict[str, Any]:
    """The row with its keys in one order, `id` first, as dataset files write it.

    A document store may hand a row back with its keys in any order; files keep one, so
    an item can be found by the bytes its line starts with.
    """
    ordered = {name: row[name] for name in ROW_ORDER if name in row}
    ordered.update(row)
    return ordered


def applied(row: dict[str, Any], edit: DatasetEdit | None) -> dict[str, Any]:
    """The row with the edit's values (a new dict, keys in the file's order, `id` first)."""
    if edit is None:
        return row
    result = {**row, **edit.changes}
    if edit.changes.get("golden") is False:
        result.pop("golden", None)  # the file holds `golden` only on golden rows
    if edit.deleted is True:
        result["deleted_at"] = row.get("deleted_at") or edit.deleted_at
    elif edit.deleted is False:
        result.pop("deleted_at", None)
    return result


def version_tag(row: dict[str, Any]) -> str:
    """A short hash of the item's content: its ETag, and what If-Match compares with."""
    return hashlib.blake2b(orjson.dumps(row, option=orjson.OPT_SORT_KEYS), digest_size=8).hexdigest()


def line_id(line: bytes) -> str | None:
    """A JSONL row's id without parsing the row when it can (rows are written with `id` first)."""
    if line.startswith(b'{"id":"'):
        end = line.find(b'"', 7)
        if end > 0 and b"\\" not in line[7:end]:
            return line[7:end].decode()
    found = orjson.loads(line).get("id")
    return None if found is None else str(found)


def public_item(row: dict[str, Any], state: str, edit: DatasetEdit | None, dataset_version: int) -> dict[str, Any]:
    """What the items API answers for a row: the edited row, where it lives, and its version tag."""
    item = applied(row, edit)
    return {
        "id": item["id"], "input": item["input"], "expected": item.get("expected"),
        "messages": item.get("messages"), "metadata": item.get("metadata") or {},
        "golden": bool(item.get("golden")), "source": (item.get("metadata") or {}).get("source"),
        "pushed_at": item.get("pushed_at"), **{name: item.get(name) for name in REF_FIELDS},
        "deleted_at": item.get("deleted_at"), "state": state, "dataset_version": dataset_version,
        "edit_pending": edit is not None, "version": version_tag(item),
    }
