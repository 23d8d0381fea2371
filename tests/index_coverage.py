"""Every query shape the code runs must be served by firestore.indexes.json in production.

Firestore answers equality-only queries from its automatic single-field indexes, but a
query that combines filters with an ordering, or with a range on another field, needs a
composite index or fails at run time. The test session records the shape of every query
the embedded store runs and, at the end, fails the session if one is not covered.
"""

from __future__ import annotations

import json
from pathlib import Path

from shared.ports import Query

INDEX_FILE = Path(__file__).resolve().parents[1] / "infra" / "firestore.indexes.json"

Shape = tuple[str, tuple[str, ...], tuple[tuple[str, str], ...]]


def required_index(query: Query, ordered: bool) -> Shape | None:
    """The composite index a query needs: equality fields, then range/order fields; None if none."""
    equality = tuple(sorted(query.where))
    tail: list[tuple[str, str]] = []
    if query.range is not None:
        tail.append((query.range.field, "ASCENDING"))
    if ordered:
        for order in query.order_by:
            direction = "DESCENDING" if order.descending else "ASCENDING"
            if query.range is not None and order.field == query.range.field:
                tail[0] = (order.field, direction)
            else:
                tail.append((order.field, direction))
    if not tail or (not equality and len(tail) == 1):
        return None  # served by single-field indexes
    return query.collection, equality, tuple(tail)


def covered(shape: Shape) -> bool:
    """Whether an index in the file starts with the equality fields (any order), then the tail in order."""
    collection, equality, tail = shape
    for index in json.loads(INDEX_FILE.read_text())["indexes"]:
        fields = [(f["fieldPath"], f["order"]) for f in index["fields"]]
        if index["collectionGroup"] != collection or len(fields) != len(equality) + len(tail):
            continue
        if {path for path, _ in fields[:len(equality)]} == set(equality) and tuple(fields[len(equality):]) == tail:
            return True
    return False
