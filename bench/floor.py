"""The floors Dr.Gero is measured against: the least a server on the same stack can do per request.

Two Starlette routes under the same uvicorn server and options as `drgero serve`:

- `POST /push`: read the body, parse the row, insert it into SQLite (WAL, synchronous=NORMAL,
  as the embedded store runs) and answer 202 with a small JSON body;
- `POST /chat/completions`: forward the body to the upstream with aiohttp (one session, a
  connector as large as Dr.Gero's) and answer with what the upstream said.

No auth, no quotas, no validation, no traces: what is left of a request's CPU above these is
what Dr.Gero itself costs. Run as `python -m bench.floor DATA_DIR PORT [UPSTREAM_BASE_URL]`.
"""

from __future__ import annotations

import sqlite3
import sys
import uuid
from pathlib import Path

import aiohttp
import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from functions.http_server import server_options
from shared.config import Settings


def app(data_dir: Path, upstream: str = "", settings: Settings | None = None) -> Starlette:
    settings = settings or Settings(_env_file=None, data_dir=data_dir)
    db = sqlite3.connect(str(data_dir / "floor.sqlite3"), isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("CREATE TABLE IF NOT EXISTS rows (id TEXT PRIMARY KEY, data TEXT NOT NULL)")
    sessions: list[aiohttp.ClientSession] = []

    async def push(request: Request) -> Response:
        row = orjson.loads(await request.body())
        batch_id = str(uuid.uuid4())
        db.execute("INSERT INTO rows (id, data) VALUES (?, ?)", (batch_id, orjson.dumps(row).decode()))
        return Response(orjson.dumps({"accepted_rows": 1, "batch_id": batch_id}), status_code=202,
                        media_type="application/json")

    async def forward(request: Request) -> Response:
        if not sessions:
            sessions.append(aiohttp.ClientSession(connector=aiohttp.TCPConnector(
                limit=settings.upstream_max_connections,
                limit_per_host=settings.upstream_max_connections_per_host)))
        body = await request.body()
        async with sessions[0].post(f"{upstream}/chat/completions", data=body,
                                    headers={"content-type": "application/json"}) as answer:
            data = await answer.read()
        return Response(data, status_code=answer.status, media_type="application/json")

    return Starlette(routes=[Route("/push", push, methods=["POST"]),
                             Route("/chat/completions", forward, methods=["POST"])])


if __name__ == "__main__":
    home, port = Path(sys.argv[1]), int(sys.argv[2])
    settings = Settings(_env_file=None, data_dir=home)
    uvicorn.run(app(home, sys.argv[3] if len(sys.argv) > 3 else "", settings), host="127.0.0.1", port=port,
                log_level="info", **server_options(settings))
