"""Documents on one SQLite file: the embedded default behind `make serve`.

Statements run inline on the event loop: each takes microseconds, which is cheaper
than a thread hop. One asyncio lock serialises access to the single connection so a
transaction's reads and writes never interleave with another coroutine's.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import orjson

from shared.ports import AlreadyExists, Data, Doc, NotFound, PreconditionFailed, Query, Unavailable
from shared.private_files import private_sqlite_database

T = TypeVar("T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
  collection TEXT NOT NULL,
  id TEXT NOT NULL,
  data TEXT NOT NULL,
  version INTEGER NOT NULL,
  PRIMARY KEY (collection, id)
);
"""


def _field(name: str) -> str:
    # Field names come from code, never from requests; still, keep them to a safe shape.
    if not name.replace("_", "").isalnum():
        raise ValueError(f"bad field name {name!r}")
    return f"json_extract(data, '$.{name}')"


def _field_names(names: tuple[str, ...]) -> None:
    for name in names:
        _field(name)


def _sql_value(value: Any) -> Any:
    # json_extract returns 1/0 for JSON booleans and text for nested JSON.
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    return value


def _where(query: Query) -> tuple[str, list[Any]]:
    clauses, params = ["collection = ?"], [query.collection]
    for name, value in query.where.items():
        if value is None:
            clauses.append(f"{_field(name)} IS NULL")
        else:
            clauses.append(f"{_field(name)} = ?")
            params.append(_sql_value(value))
    bound = query.range
    if bound is not None and bound.low is not None:
        clauses.append(f"{_field(bound.field)} >= ?")
        params.append(_sql_value(bound.low))
    if bound is not None and bound.high is not None:
        clauses.append(f"{_field(bound.field)} < ?")
        params.append(_sql_value(bound.high))
    return " AND ".join(clauses), params


class SqliteDocuments:
    """Documents port on SQLite (WAL mode, one connection per process)."""

    def __init__(self, path: Path | str) -> None:
        if str(path) != ":memory:":
            private_sqlite_database(Path(path))
        self._db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA busy_timeout=5000")
        self._db.executescript(_SCHEMA)
        self._lock = asyncio.Lock()

    def _row(self, collection: str, doc_id: str) -> Doc | None:
        row = self._db.execute(
            "SELECT data, version FROM documents WHERE collection = ? AND id = ?",
            (collection, doc_id),
        ).fetchone()
        return Doc(doc_id, orjson.loads(row[0]), str(row[1])) if row else None

    def _write(self, collection: str, doc_id: str, data: Data) -> Doc:
        current = self._row(collection, doc_id)
        version = int(current.version) + 1 if current else 1
        self._db.execute(
            "INSERT OR REPLACE INTO documents (collection, id, data, version) VALUES (?, ?, ?, ?)",
            (collection, doc_id, orjson.dumps(data).decode(), version),
        )
        return Doc(doc_id, dict(data), str(version))

    async def get(self, collection: str, doc_id: str) -> Doc | None:
        async with self._lock:
            return self._row(collection, doc_id)

    async def create(self, collection: str, doc_id: str, data: Data) -> Doc:
        async with self._lock:
            if self._row(collection, doc_id):
                raise AlreadyExists(f"{collection}/{doc_id}")
            return self._write(collection, doc_id, data)

    async def set(self, collection: str, doc_id: str, data: Data) -> Doc:
        async with self._lock:
            return self._write(collection, doc_id, data)

    async def update(
        self, collection: str, doc_id: str, changes: Data, *, if_version: str | None = None
    ) -> Doc:
        async with self._lock:
            with self._atomic():
                current = self._row(collection, doc_id)
                if current is None:
                    raise NotFound(f"{collection}/{doc_id}")
                if if_version is not None and current.version != if_version:
                    raise PreconditionFailed(f"{collection}/{doc_id} changed")
                return self._write(collection, doc_id, {**current.data, **changes})

    async def delete(self, collection: str, doc_id: str) -> bool:
        async with self._lock:
            cursor = self._db.execute(
                "DELETE FROM documents WHERE collection = ? AND id = ?", (collection, doc_id)
            )
            return cursor.rowcount > 0

    async def query(self, query: Query) -> list[Doc]:
        where, params = _where(query)
        order = ", ".join(
            f"{_field(o.field)} {'DESC' if o.descending else 'ASC'}" for o in query.order_by
        )
        data = "data"
        if query.select:
            # `->` keeps JSON types (json_extract would turn true into 1); needs SQLite 3.38+.
            _field_names(query.select)
            pairs = ", ".join(f"'{name}', data -> '$.{name}'" for name in query.select)
            data = f"json_object({pairs})"
        sql = f"SELECT id, {data}, version FROM documents WHERE {where}"
        sql += f" ORDER BY {order + ', ' if order else ''}id"
        sql += " LIMIT ? OFFSET ?"
        params += [query.limit if query.limit is not None else -1, query.offset]
        async with self._lock:
            rows = self._db.execute(sql, params).fetchall()
        return [Doc(r[0], orjson.loads(r[1]), str(r[2])) for r in rows]

    async def count(self, query: Query) -> int:
        where, params = _where(query)
        async with self._lock:
            return self._db.execute(f"SELECT COUNT(*) FROM documents WHERE {where}", params).fetchone()[0]

    async def run_transaction(self, fn: Callable[[_Transaction], Awaitable[T]]) -> T:
        async with self._lock:
            tx = _Transaction(self)
            result = await fn(tx)
            with self._atomic():
                tx.apply()
            return result

    async def ping(self) -> None:
        try:
            self._db.execute("SELECT 1").fetchone()
        except sqlite3.Error as exc:
            raise Unavailable(str(exc)) from exc

    def _atomic(self) -> _Atomic:
        return _Atomic(self._db)

    def close(self) -> None:
        self._db.close()


class _Atomic:
    """BEGIN IMMEDIATE ... COMMIT, rolled back on error; guards other processes (the CLI)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, *_: object) -> None:
        self._db.execute("ROLLBACK" if exc_type else "COMMIT")


class _Transaction:
    """Buffers writes until the transaction function returns, like Firestore."""

    def __init__(self, store: SqliteDocuments) -> None:
        self._store = store
        self._writes: list[tuple[str, str, str, Data | None]] = []

    async def get(self, collection: str, doc_id: str) -> Doc | None:
        if self._writes:
            raise RuntimeError("transactions must read before they write")
        return self._store._row(collection, doc_id)

    def create(self, collection: str, doc_id: str, data: Data) -> None:
        self._writes.append(("create", collection, doc_id, data))

    def set(self, collection: str, doc_id: str, data: Data) -> None:
        self._writes.append(("set", collection, doc_id, data))

    def delete(self, collection: str, doc_id: str) -> None:
        self._writes.append(("delete", collection, doc_id, None))

    def apply(self) -> None:
        db = self._store._db
        for op, collection, doc_id, data in self._writes:
            if op == "delete":
                db.execute("DELETE FROM documents WHERE collection = ? AND id = ?", (collection, doc_id))
                continue
            if op == "create" and self._store._row(collection, doc_id):
                raise AlreadyExists(f"{collection}/{doc_id}")
            self._store._write(collection, doc_id, data or {})
