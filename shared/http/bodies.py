"""Request bodies: read within the size limit, parse as JSON, and refuse at once what no store can keep.

Whatever this accepts, every store here can hold: the same rules apply to every JSON field of
every route (metadata, constraints, pushed rows, ...), so no value can pass validation and
then fail on its way to Firestore or SQLite after the work it paid for was done. Refused:
integers beyond 64 bits, NaN and Infinity (also as an overflowing 1e999), text with lone
surrogates (no UTF-8 encoding holds them), and nesting deeper than MAX_DEPTH (Firestore keeps
20 levels; a body's values are stored a few levels down).

Most bodies take a fast path: a strict parser (orjson refuses NaN, overflow and lone
surrogates) on bodies too shallow to nest too deep and without a number long enough to
pass 64 bits. Anything else, or anything it refuses, goes through the careful parser,
which says what is wrong and in which field.
"""

from __future__ import annotations

import json
import re
from typing import Any

import orjson
from starlette.requests import ClientDisconnect, Request

from shared.errors import InvalidInput
from shared.http.errors import HttpError

MAX_DEPTH = 16
# A body over the limit is still read (and thrown away) up to this much, so a client that is
# still sending gets the JSON 413 instead of a connection reset in the middle of its upload.
DRAIN_BYTES = 16 * 1024 * 1024
INT64_DIGITS = 19
_LONG_NUMBER = re.compile(rb"\d{%d}" % INT64_DIGITS)  # may be past 64 bits (orjson would make it a float)


class _OutOfRange:
    """Stands in for an integer no store can hold, so the walk below can name its field."""


def _int64(text: str) -> int | _OutOfRange:
    if len(text.lstrip("-")) > INT64_DIGITS:  # also spares int() its 4,300-digit guard
        return _OutOfRange()
    value = int(text)
    return value if -(2**63) <= value < 2**63 else _OutOfRange()


def _not_json(name: str) -> None:
    # Python's parser accepts NaN and Infinity; JSON does not, and the stores cannot keep them.
    raise ValueError(f"{name} is not JSON")


def _finite(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        _not_json(text)
    return value


async def read_limited(request: Request, limit: int) -> bytes:
    try:
        return await _read(request, limit)
    except ClientDisconnect:
        # The client went away (or was cut off by the read timeout) mid-body: nobody reads the
        # answer, but it must not look like a server fault in the log.
        raise HttpError(400, "incomplete_body", "The connection closed before the request body arrived in full.") \
            from None


async def _read(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    too_large = HttpError(413, "payload_too_large", f"Request bodies are limited to {limit} bytes.")
    if declared and declared.isdigit() and int(declared) > limit:
        await _drain(request, 0)
        raise too_large
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            await _drain(request, size)
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


async def _drain(request: Request, read: int) -> None:
    async for chunk in request.stream():
        read += len(chunk)
        if read > DRAIN_BYTES:
            return  # enough: a client sending more than this is not waiting for an answer


def parse_json(raw: bytes) -> Any:
    """The body's value, or the 400/422 that says why not."""
    if raw.count(b"{") + raw.count(b"[") <= MAX_DEPTH and not _LONG_NUMBER.search(raw):
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            pass  # the careful parser finds out why
    try:
        data = json.loads(raw, parse_int=_int64, parse_float=_finite, parse_constant=_not_json)
    except RecursionError:
        raise _too_deep("body") from None
    except (ValueError, UnicodeDecodeError):
        raise HttpError(400, "malformed_json", "The body is not valid JSON.") from None
    _check_storable(data)
    return data


def _check_storable(data: Any) -> None:
    """Walk the value (without recursion) and refuse lone surrogates, deep nesting and integers
    beyond 64 bits, naming the field."""
    todo: list[tuple[Any, tuple[str, ...]]] = [(data, ())]
    while todo:
        value, path = todo.pop()
        if isinstance(value, str):
            _check_text(value, path)
        elif isinstance(value, _OutOfRange):
            field = _field(path)
            raise InvalidInput(f"{field}: integers must fit in 64 bits (what every store here can hold).",
                               details=[{"field": field, "message": "integer out of range"}])
        elif isinstance(value, (dict, list)):
            if len(path) >= MAX_DEPTH:
                raise _too_deep(_field(path))
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                if isinstance(key, str):
                    _check_text(key, (*path, key))
                todo.append((item, (*path, str(key))))


def _check_text(text: str, path: tuple[str, ...]) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        field = _field(path)
        raise InvalidInput(f"{field}: text with an unpaired surrogate (\\ud800 to \\udfff) cannot be stored.",
                           details=[{"field": field, "message": "unpaired surrogate in text"}]) from None


def _too_deep(field: str) -> InvalidInput:
    return InvalidInput(f"{field}: values may nest at most {MAX_DEPTH} levels deep.",
                        details=[{"field": field, "message": "nested too deeply"}])


def _field(path: tuple[str, ...]) -> str:
    return ".".join(path) or "body"
