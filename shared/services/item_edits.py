"""How consolidation folds pending item edits into the version it writes, and forgets them afterwards.

Every row the new version takes (the current file's, the deleted file's, the pending
batches') passes through `Folding.place`: an edited row is rewritten with its edit, and
goes to the dataset file or, when deleted, to the deleted file. Rows without an edit are
copied as bytes, recognised by their id alone, so a fold of 1,000 edits over a
million-row file parses 1,000 rows, not a million.

After the pointer moved, the folded edits are deleted, each only if it is still at the
revision that was folded: an edit changed meanwhile stays pending and is folded again
next time (it holds values, so folding it twice is harmless). A crash before that is
repaired by the next consolidation from the edits manifest of the version.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import orjson

from shared.domain.dataset_items import DatasetEdit, applied, in_file_order, line_id
from shared.domain.push_dataset import PushDataset
from shared.ports import Deps, Transaction
from shared.stores.push_datasets import DatasetEdits

DROP_CHUNK = 100  # edits checked and deleted per transaction
MAX_EDITS_PER_VERSION = 50_000


async def pending_edits(deps: Deps, leaderboard_id: str) -> dict[str, DatasetEdit]:
    """The leaderboard's pending edits by item id."""
    store = DatasetEdits(deps.documents)
    docs = await deps.documents.query(store.of_board(leaderboard_id, limit=MAX_EDITS_PER_VERSION))
    edits = (store.load(doc) for doc in docs)
    return {edit.item_id: edit for edit in edits}


@dataclass
class Folding:
    """The edits one consolidation folds, and the identities that deleted rows keep reserved."""

    edits: dict[str, DatasetEdit]
    buried: set[bytes] = field(default_factory=set)
    edited: int = 0

    def place(self, line: bytes, digest: bytes, was_deleted: bool, row_id: str | None = None) -> tuple[bytes, bool]:
        """The line to write for a row, and whether it belongs in the deleted file."""
        edit = self.edits.get(row_id if row_id is not None else line_id(line)) if self.edits else None
        if edit is None:
            deleted = was_deleted
        else:
            row = in_file_order(applied(orjson.loads(line), edit))
            line, deleted = orjson.dumps(row, option=orjson.OPT_APPEND_NEWLINE), bool(row.get("deleted_at"))
            self.edited += 1
        if deleted:
            self.buried.add(digest)
        return line, deleted

    def manifest(self) -> bytes:
        return json.dumps([[edit.id, edit.revision] for edit in self.edits.values()]).encode()


async def edit_manifest(deps: Deps, pointer: PushDataset) -> list[list[str]]:
    if not pointer.edits_key:
        return []
    data, _ = await deps.blobs.get(pointer.edits_key)
    return json.loads(data)


async def drop_folded(deps: Deps, folded: list[list[str]]) -> None:
    """Delete the folded edits that nobody changed since they were read."""
    for start in range(0, len(folded), DROP_CHUNK):
        await deps.documents.run_transaction(_dropping(folded[start:start + DROP_CHUNK]))


def _dropping(folded: list[list[str]]) -> Callable[[Transaction], Awaitable[None]]:
    async def drop(tx: Transaction) -> None:
        current = [await tx.get(DatasetEdits.collection, edit_id) for edit_id, _ in folded]
        for (edit_id, revision), doc in zip(folded, current, strict=True):
            if doc is not None and doc.version == revision:
                tx.delete(DatasetEdits.collection, edit_id)

    return drop
