"""Hugging Face JSONL datasets: download into the blob cache (revalidated by ETag, capped in size), and
check a URL before a leaderboard uses it (reachable, shaped like a dataset, which fields hold input and answer)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urljoin, urlsplit

from shared.config import Settings
from shared.domain.push_rows import EXPECTED_FIELDS, INPUT_FIELDS, Rejection, normalize
from shared.domain.times import iso
from shared.domain.urls import huggingface_jsonl_url
from shared.errors import InvalidInput
from shared.ports import Deps, FetchFailed, FetchStream
from shared.services.outbound import DatasetUnavailable, check_outbound_url, unreachable

CACHE = "hf_cache"
CHUNK = 256 * 1024
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 5  # the Hub sends one, to its CDN


def _origin(url: str) -> tuple[str, str | None, int | None]:
    parts = urlsplit(url)
    return parts.scheme, parts.hostname, parts.port or {"http": 80, "https": 443}.get(parts.scheme)


def _hop_headers(settings: Settings, url: str, headers: Mapping[str, str]) -> dict[str, str]:
    """The headers for one hop: the deployment's token goes to the configured Hub host and nowhere else."""
    if settings.huggingface_token and _origin(url) == _origin(settings.huggingface_base_url):
        return {**headers, "Authorization": f"Bearer {settings.huggingface_token}"}
    return dict(headers)


@asynccontextmanager
async def _followed(deps: Deps, url: str, headers: Mapping[str, str], timeout: float) -> AsyncIterator[FetchStream]:
    """GET `url`, following redirects here rather than in the HTTP client, so every hop is checked
    like the first (a redirect cannot lead inside the network) and gets the token only on the Hub."""
    for _ in range(MAX_REDIRECTS + 1):
        await check_outbound_url(url, deps.settings.allow_private_urls)
        async with deps.fetch.stream(url, headers=_hop_headers(deps.settings, url, headers), timeout=timeout,
                                     follow_redirects=False) as answer:
            location = answer.headers.get("location") if answer.status in REDIRECT_STATUSES else None
            if not location:
                yield answer
                return
        url = urljoin(url, location)
    raise DatasetUnavailable(f"The URL redirects more than {MAX_REDIRECTS} times.")


async def fetch_huggingface(deps: Deps, url: str) -> str:
    """Download (or revalidate) a Hugging Face JSONL file into the blob cache; returns its key."""
    key = f"{CACHE}/{hashlib.sha256(url.encode()).hexdigest()}.jsonl"
    cached = await deps.documents.get(CACHE, hashlib.sha256(url.encode()).hexdigest())
    headers = {"Accept": "application/jsonl, application/x-ndjson, */*"}
    if cached and cached.data.get("etag"):
        headers["If-None-Match"] = cached.data["etag"]
    limit = deps.settings.max_dataset_bytes
    try:
        async with _followed(deps, url, headers, timeout=30) as answer:
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
        raise DatasetUnavailable(unreachable(url, exc)) from exc
    return key


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
    try:
        async with _followed(deps, url, headers, timeout=15) as answer:
            status = answer.status
            body = await _up_to(answer.chunks, SAMPLE_BYTES) if status in (200, 206) else b""
    except FetchFailed as exc:
        raise DatasetUnavailable(unreachable(url, exc)) from exc
    report["http_status"] = status
    if status not in (200, 206):
        report["reachable"] = False
        report["problems"].append(f"The URL answered HTTP {status}.")
        return None
    report["reachable"] = True
    return body


async def _up_to(chunks: AsyncIterator[bytes], limit: int) -> bytes:
    """The first `limit` bytes of a body; the rest is never read (a server ignoring Range costs nothing)."""
    body = b""
    async for chunk in chunks:
        body += chunk
        if len(body) >= limit:
            return body[:limit]
    return body
