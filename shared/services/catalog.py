"""OpenRouter's model catalog (GET {openrouter_base_url}/models), read once and reused.

The catalog is the same for everyone, so one
copy per process serves every workspace until it is `catalog_cache_seconds` old.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx

from shared.ports import Deps
from shared.errors import UpstreamUnavailable

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
        models = await _fetch(url, deps.settings.integration_timeout_seconds)
        _cache[url] = (time.monotonic(), models)
        return models


async def _fetch(url: str, timeout: float) -> dict[str, dict[str, Any]]:
    try:
        async with httpx.AsyncClient(timeout=timeout) as http:
            response = await http.get(url)
            response.raise_for_status()
            entries = response.json()["data"]
    except httpx.HTTPError as exc:
        raise UpstreamUnavailable(f"The OpenRouter model catalog is unavailable ({type(exc).__name__}).") from None
    except (ValueError, KeyError, TypeError):
        raise UpstreamUnavailable("The OpenRouter model catalog answered something that is not a model list.") from None
    return {entry["id"]: entry for entry in entries if isinstance(entry, dict) and isinstance(entry.get("id"), str)}

