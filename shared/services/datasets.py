"""The rows a run evaluates: a PUSH leaderboard's current version, or a Hugging Face JSONL file.

Both are read as streams and normalized with the push rules (same field aliases), so a
row of either kind has an id, an input and maybe an expected answer. Hugging Face files
are fetched through the configured base URL (HF_ENDPOINT-style), capped in size, and
cached as a blob keyed by URL and revalidated with the ETag.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import socket
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

from shared.domain.leaderboard import Leaderboard
from shared.domain.push_rows import EXPECTED_FIELDS, INPUT_FIELDS, Rejection, normalize
from shared.domain.times import iso
from shared.domain.urls import huggingface_jsonl_url, ip_is_internal, unsafe_url_reason
from shared.errors import InvalidInput
from shared.ports import Data, Deps, FetchFailed
from shared.services.consolidation import lines, read_dataset

CACHE = "hf_cache"
CHUNK = 256 * 1024


class DatasetUnavailable(Exception):
    """The dataset could not be read; the message says why, for the run's error."""


_RESOLVED: dict[str, tuple[float, list[str]]] = {}
RESOLVE_TTL_SECONDS = 30.0  # inference checks every call; one lookup per host per half minute


async def _resolve(host: str) -> list[str]:
    cached = _RESOLVED.get(host)
    if cached and time.monotonic() - cached[0] < RESOLVE_TTL_SECONDS:
        return cached[1]
    infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    addresses = [info[4][0] for info in infos]
    _RESOLVED[host] = (time.monotonic(), addresses)
    return addresses


async def check_outbound_url(url: str, allow_private: bool,
                             resolve: Callable[[str], Awaitable[list[str]]] = _resolve) -> None:
    """Refuse URLs that point inside the network, judging the resolved addresses too.

    The name is resolved again when the request is made, so a name that changes its
    answer in between (DNS rebinding) is not caught here; egress rules are the backstop.
    """
    reason = unsafe_url_reason(url, allow_private)
    if reason is None and not allow_private:
        host = urlsplit(url).hostname or ""
        try:
            addresses = await resolve(host)
        except OSError as exc:
            raise DatasetUnavailable(f"cannot resolve {host}: {exc}") from exc
        if any(ip_is_internal(address) for address in addresses):
            reason = "URLs that point inside the network are not allowed"
    if reason:
        raise InvalidInput.field("url", reason)


async def rows_from_jsonl(chunks: AsyncIterator[bytes], source: str) -> AsyncIterator[Data]:
    """Normalized rows of a JSONL stream; unparsable or rejected lines are skipped."""
    index = 0
    async for line in lines(chunks):
        if not line.strip():
            continue
        try:
            raw: Any = json.loads(line)
        except ValueError:
            index += 1
            continue
        row = normalize(raw, index, "")
        if not isinstance(row, Rejection):
            yield {"id": row["id"] or f"{source}-{index}", "input": row["input"], "expected": row["expected"]}
        index += 1


async def fetch_huggingface(deps: Deps, url: str) -> str:
    """Download (or revalidate) a Hugging Face JSONL file into the blob cache; returns its key."""
    await check_outbound_url(url, deps.settings.allow_private_urls)
    key = f"{CACHE}/{hashlib.sha256(url.encode()).hexdigest()}.jsonl"
    cached = await deps.documents.get(CACHE, hashlib.sha256(url.encode()).hexdigest())
    headers = {"Accept": "application/jsonl, application/x-ndjson, */*"}
    if deps.settings.huggingface_token:
        headers["Authorization"] = f"Bearer {deps.settings.huggingface_token}"
    if cached and cached.data.get("etag"):
        headers["If-None-Match"] = cached.data["etag"]
    limit = deps.settings.max_dataset_bytes
    try:
        async with deps.fetch.stream(url, headers=headers, timeout=30, follow_redirects=True) as answer:
            if answer.status == 304 and cached:
                return key
            if answer.status != 200:
                raise DatasetUnavailable(f"{url} answered HTTP {answer.status}")
            size = 0

            async def body() -> AsyncIterator[bytes]:
                nonlocal size
                async for chunk in answer.chunks:
                    size += len(chunk)
                    if size > limit:
                        raise DatasetUnavailable(f"{url} is larger than the {limit} byte cap")
                    yield chunk

            await deps.blobs.write_stream(key, body(), content_type="application/x-ndjson")
            await deps.documents.set(CACHE, hashlib.sha256(url.encode()).hexdigest(), {
                "url": url, "etag": answer.headers.get("etag"), "bytes": size, "fetched_at": iso(deps.clock.now())})
    except FetchFailed as exc:
        raise DatasetUnavailable(f"{url} could not be fetched: {exc}") from exc
    return key


async def dataset_rows(deps: Deps, board: Leaderboard) -> tuple[AsyncIterator[Data], dict[str, Any]]:
    """The rows of a leaderboard's dataset and a description of what was read, for the run."""
    if board.is_push:
        pointer, chunks = await read_dataset(deps, board.id)
        if pointer is None or chunks is None:
            raise DatasetUnavailable("The PUSH dataset has no consolidated rows yet.")
        return rows_from_jsonl(chunks, "push"), {"type": "PUSH", "version": pointer.version}
    if not board.dataset_url:
        raise DatasetUnavailable("The leaderboard has no dataset URL.")
    key = await fetch_huggingface(deps, board.dataset_url)
    return (rows_from_jsonl(deps.blobs.read_stream(key, chunk_size=CHUNK), "row"),
            {"type": "GET", "url": board.dataset_url})


SAMPLE_BYTES = 256 * 1024
SAMPLE_ROWS = 20


async def check_huggingface(deps: Deps, url: str) -> dict[str, Any]:
    """Whether a URL is a usable Hugging Face JSONL dataset: shape, reachability, first rows, fields."""
    report: dict[str, Any] = {"url": url, "valid": False, "reachable": None, "http_status": None,
                              "rows_sampled": 0, "rows_usable": 0, "fields": [], "input_field": None,
                              "expected_field": None, "problems": []}
    canonical = huggingface_jsonl_url(url, deps.settings.huggingface_base_url)
    if canonical is None:
        report["problems"].append("Not a Hugging Face dataset JSONL URL: expected "
                                  f"{deps.settings.huggingface_base_url}/datasets/OWNER/NAME/resolve/REVISION/FILE.jsonl")
        return report
    report["url"] = canonical
    try:
        await check_outbound_url(canonical, deps.settings.allow_private_urls)
        head = await _first_bytes(deps, canonical, report)
    except (InvalidInput, DatasetUnavailable) as exc:
        report["reachable"] = False
        report["problems"].append(getattr(exc, "message", str(exc)))
        return report
    if head is None:
        return report
    fields: dict[str, int] = {}
    lines = head.split(b"\n")
    if len(head) >= SAMPLE_BYTES:
        lines = lines[:-1]  # the last line may be cut off by the sample
    for index, line in enumerate(line for line in lines if line.strip()):
        if index >= SAMPLE_ROWS:
            break
        report["rows_sampled"] += 1
        try:
            raw = json.loads(line)
        except ValueError:
            report["problems"].append(f"Line {index + 1} is not JSON.")
            continue
        if isinstance(raw, dict):
            for name in raw:
                fields[name] = fields.get(name, 0) + 1
        if not isinstance(normalize(raw, index, ""), Rejection):
            report["rows_usable"] += 1
    report["fields"] = sorted(fields)
    report["input_field"] = _most_used(fields, (*INPUT_FIELDS, "messages"))
    report["expected_field"] = _most_used(fields, EXPECTED_FIELDS)
    if report["rows_sampled"] == 0:
        report["problems"].append("The file is empty.")
    elif report["input_field"] is None:
        report["problems"].append(f"No input field: rows need one of {', '.join((*INPUT_FIELDS, 'messages'))}.")
    if report["expected_field"] is None and report["rows_sampled"]:
        report["problems"].append("No expected field: exact scoring needs one (judge and human do not).")
    report["valid"] = report["rows_usable"] > 0 and report["input_field"] is not None
    return report


def _most_used(counts: dict[str, int], names: tuple[str, ...]) -> str | None:
    """The alias most rows use (earlier aliases win ties), or None."""
    present = [name for name in names if name in counts]
    return max(present, key=lambda name: (counts[name], -names.index(name))) if present else None


async def _first_bytes(deps: Deps, url: str, report: dict[str, Any]) -> bytes | None:
    headers = {"Range": f"bytes=0-{SAMPLE_BYTES - 1}"}
    if deps.settings.huggingface_token:
        headers["Authorization"] = f"Bearer {deps.settings.huggingface_token}"
    try:
        answer = await deps.fetch.get(url, headers=headers, timeout=15, max_bytes=SAMPLE_BYTES, follow_redirects=True)
    except FetchFailed as exc:
        raise DatasetUnavailable(f"The URL could not be fetched: {exc}") from exc
    report["http_status"] = answer.status
    if answer.status not in (200, 206):
        report["reachable"] = False
        report["problems"].append(f"The URL answered HTTP {answer.status}.")
        return None
    report["reachable"] = True
    return answer.body


AUTO_LIMIT_ROWS = 1000


async def limited(rows: AsyncIterator[Data], limit: Data) -> AsyncIterator[Data]:
    """A scheduled run's dataset limit: the last N rows, or N drawn at random (seeded), in dataset order.

    `auto` means AUTO_LIMIT_ROWS rows. Only N rows are held in memory at once.
    """
    size = AUTO_LIMIT_ROWS if limit.get("auto") else limit["rows"]
    if limit.get("algorithm") == "RANDOM":
        rng, kept = random.Random(limit.get("seed") or 0), []
        async for index, row in _enumerate(rows):  # reservoir sampling keeps each row with equal chance
            if len(kept) < size:
                kept.append((index, row))
            elif (slot := rng.randrange(index + 1)) < size:
                kept[slot] = (index, row)
        for _, row in sorted(kept, key=lambda pair: pair[0]):
            yield row
        return
    last: deque[Data] = deque(maxlen=size)
    async for row in rows:
        last.append(row)
    for row in last:
        yield row


async def _enumerate(rows: AsyncIterator[Data]) -> AsyncIterator[tuple[int, Data]]:
    index = 0
    async for row in rows:
        yield index, row
        index += 1
