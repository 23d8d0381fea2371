"""The console's stylesheet and script, served with a validator so browsers revalidate instead of refetching."""

from __future__ import annotations

import hashlib
from functools import cache

from starlette.responses import Response

from functions.console.web import HERE
from shared.errors import NotFoundError
from shared.http.routes import Call

TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}


@cache
def _file(name: str) -> tuple[bytes, str] | None:
    path = HERE / "static" / name
    if "/" in name or path.suffix not in TYPES or not path.is_file():
        return None
    data = path.read_bytes()
    return data, hashlib.sha256(data).hexdigest()[:16]


async def static(call: Call[None]) -> Response:
    found = _file(call.path["name"])
    if found is None:
        raise NotFoundError(f"No console file {call.path['name']!r}.")
    data, etag = found
    headers = {"ETag": f'"{etag}"', "Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"}
    if call.request.headers.get("if-none-match") == f'"{etag}"':
        return Response(status_code=304, headers=headers)
    return Response(data, media_type=TYPES[(HERE / "static" / call.path["name"]).suffix], headers=headers)
