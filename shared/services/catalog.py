"""OpenRouter's model catalog (GET {openrouter_base_url}/models), read once and reused.

The catalog is the same for everyone, so one
copy per process serves every workspace until it is `catalog_cache_seconds` old.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from shared.errors import UpstreamUnavailable
from shared.ports import Deps, FetchFailed

_cache: dict[str, tuple[float, dict[str, dict[str, Any]]]] = {}
_lock = asyncio.Lock()


async def openrouter_catalog(deps: Deps, max_age: float | None = None) -> dict[str, dict[str, Any]]:
    """model id -> catalog entry; `max_age` seconds (default: the configured cache time)."""
    url = f"{deps.settings.openrouter_base_url.rstrip('/')}/models"
    max_age = deps.settings.catalog_cache_seconds if max_age is None else max_age
    cached = _cache.get(url)
    if cached and time.monotonic() - cached[0] < max_age:
        return cached[1]
    async with _lock:
        cached = _cache.get(url)
        if cached and time.monotonic() - cached[0] < max_age:
            return cached[1]
        models = await _fetch(deps, url)
        _cache[url] = (time.monotonic(), models)
        return models


async def _fetch(deps: Deps, url: str) -> dict[str, dict[str, Any]]:
    try:
        answer = await deps.fetch.get(url, timeout=deps.settings.integration_timeout_seconds)
    except FetchFailed as exc:
        raise UpstreamUnavailable(f"The OpenRouter model catalog is unavailable ({exc}).") from None
    if answer.status != 200:
        raise UpstreamUnavailable(f"The OpenRouter model catalog answered HTTP {answer.status}.")
    try:
        entries = json.loads(answer.body)["data"]
    except (ValueError, KeyError, TypeError):
        raise UpstreamUnavailable("The OpenRouter model catalog answered something that is not a model list.") from None
    return {entry["id"]: entry for entry in entries if isinstance(entry, dict) and isinstance(entry.get("id"), str)}

