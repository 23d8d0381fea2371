"""Documents on one SQLite file: the embedded default behind `make serve`.

Statements run inline on the event loop: each takes microseconds, which is cheaper
than a thread hop. One asyncio lock serialises access to the single connection so a
transaction's reads and writes never interleave with another coroutine's.

Like Firestore, queries need no index declarations: the first query of a shape (its
collection, equality fields and ordering) creates a partial index for exactly that shape,
so lookups by token hash or leaderboard stay index searches however many documents the
store holds, and each write updates only the indexes of its own collection.

Checkpoints (copying the write-ahead log into the database file, and syncing it) run on a
worker thread every CHECKPOINT_EVERY writes, not inside whichever request's commit crossed
SQLite's own threshold: the event loop never waits for the disk.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sqlite3
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import orjson

from shared.ports import AlreadyExists, Data, Doc, NotFound, PreconditionFailed, Query, Unavailable
from shared.private_files import private_sqlite_database

T = TypeVar("T")
CHECKPOINT_EVERY = 500
log = logging.getLogger(__name__)

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


def _collection(name: str) -> str:
    # Inlined as a literal so SQLite can use the collection's partial indexes; names come from code.
    if not name.replace("_", "").isalnum():
        raise ValueError(f"bad collection name {name!r}")
    return f"collection = '{name}'"


def _where(query: Query) -> tuple[str, list[Any]]:
    clauses, params = [_collection(query.collection)], []
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
        self._path = None if str(path) == ":memory:" else Path(path)
        if self._path is not None:
            private_sqlite_database(self._path)
        self._db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA busy_timeout=5000")
        self._db.execute("PRAGMA wal_autocheckpoint=0")  # see _checkpoint_now and then
        self._db.executescript(_SCHEMA)
        self._lock = asyncio.Lock()
        self._indexed: set[tuple[str, tuple[str, ...]]] = set()
        self._writes = 0
        self._checkpoint: asyncio.Future[None] | None = None

    @contextlib.asynccontextmanager
    async def _writing(self) -> Any:
        """The connection for one write (or transaction); counts it towards the next checkpoint."""
        async with self._lock:
            yield
        self._writes += 1
        if self._writes % CHECKPOINT_EVERY == 0 and self._path is not None and \
                (self._checkpoint is None or self._checkpoint.done()):
            self._checkpoint = asyncio.get_running_loop().run_in_executor(None, _checkpoint, self._path)

    def _row(self, collection: str, doc_id: str) -> Doc | None:
        row = self._db.execute(
            "SELECT data, version FROM documents WHERE collection = ? AND id = ?",
            (collection, doc_id),
        ).fetchone()
        return Doc(doc_id, orjson.loads(row[0]), str(row[1])) if row else None

    def _write(self, collection: str, doc_id: str, data: Data) -> Doc:
        (version,) = self._db.execute(
            "INSERT INTO documents (collection, id, data, version) VALUES (?, ?, ?, 1) "
            "ON CONFLICT (collection, id) DO UPDATE SET data = excluded.data, version = version + 1 "
            "RETURNING version",
            (collection, doc_id, orjson.dumps(data).decode()),
        ).fetchone()
        return Doc(doc_id, dict(data), str(version))

    def _insert(self, collection: str, doc_id: str, data: Data) -> Doc:
        try:
            self._db.execute("INSERT INTO documents (collection, id, data, version) VALUES (?, ?, ?, 1)",
                             (collection, doc_id, orjson.dumps(data).decode()))
        except sqlite3.IntegrityError:
            raise AlreadyExists(f"{collection}/{doc_id}") from None
        return Doc(doc_id, dict(data), "1")

    def _ensure_index(self, query: Query) -> None:
        """A partial index for this query's shape: its equality fields, then its ordering."""
        fields = (*sorted(query.where), *(o.field for o in query.order_by))
        shape = (query.collection, fields)
        if shape in self._indexed or not fields:
            return
        self._indexed.add(shape)
        name = "shape_" + "__".join((query.collection, *fields))
        columns = ", ".join(_field(name) for name in fields)
        self._db.execute(f'CREATE INDEX IF NOT EXISTS "{name}" ON documents ({columns}) '
                         f"WHERE {_collection(query.collection)}")

    async def get(self, collection: str, doc_id: str) -> Doc | None:
        async with self._lock:
            return self._row(collection, doc_id)

    async def create(self, collection: str, doc_id: str, data: Data) -> Doc:
        async with self._writing():
            return self._insert(collection, doc_id, data)

    async def set(self, collection: str, doc_id: str, data: Data) -> Doc:
        async with self._writing():
            return self._write(collection, doc_id, data)

    async def update(
        self, collection: str, doc_id: str, changes: Data, *, if_version: str | None = None
    ) -> Doc:
        async with self._writing():
            with self._atomic():
                current = self._row(collection, doc_id)
                if current is None:
                    raise NotFound(f"{collection}/{doc_id}")
                if if_version is not None and current.version != if_version:
                    raise PreconditionFailed(f"{collection}/{doc_id} changed")
                return self._write(collection, doc_id, {**current.data, **changes})

    async def delete(self, collection: str, doc_id: str) -> bool:
        async with self._writing():
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
            self._ensure_index(query)
            rows = self._db.execute(sql, params).fetchall()
        return [Doc(r[0], orjson.loads(r[1]), str(r[2])) for r in rows]

    async def count(self, query: Query) -> int:
        where, params = _where(query)
        async with self._lock:
            self._ensure_index(Query(query.collection, where=query.where))
            return self._db.execute(f"SELECT COUNT(*) FROM documents WHERE {where}", params).fetchone()[0]

    async def run_transaction(self, fn: Callable[[_Transaction], Awaitable[T]]) -> T:
        async with self._writing():
            tx = _Transaction(self)
            # Reads too happen inside BEGIN IMMEDIATE, so another process (the CLI) cannot
            # write between them and the commit.
            with self._atomic():
                result = await fn(tx)
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
        self._db.close()  # the last connection to close checkpoints what is left


def _checkpoint(path: Path) -> None:
    """Copy what the write-ahead log holds into the database file, on a connection of its own.

    PASSIVE: it copies what no reader still needs and never blocks a writer, so it can run
    while requests go on; what it leaves, the next one takes.
    """
    try:
        with contextlib.closing(sqlite3.connect(str(path), isolation_level=None)) as db:
            db.execute("PRAGMA wal_checkpoint(PASSIVE)")
    except sqlite3.Error as exc:
        log.warning("checkpoint of %s failed (the next one retries): %s", path, exc)


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
            if op == "create":
                self._store._insert(collection, doc_id, data or {})
            else:
                self._store._write(collection, doc_id, data or {})
