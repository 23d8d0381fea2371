"""The base models own models start from: the ones the fine-tuning backend can fine-tune.

The backend is asked for its models (`GET /models` in the OpenAI wire format). A listing
names every model the account can use (OpenAI's has embedding, image and audio models too)
and does not say which of them can be fine-tuned, so a listed model is offered when
`DRGERO_FINE_TUNE_BASE_MODELS` names it; `*` offers every listed model, for backends that
list only what they tune. A backend that cannot list its models (no listing, no answer, a
refused key) gets the built-in list instead, and answers say which one they are (`source`).

A listing is reused for `DRGERO_CATALOG_CACHE_SECONDS`; after a failed look the built-in
answer is reused for `RETRY_SECONDS`, so a backend that is down does not slow every request
that needs the list.
"""

from __future__ import annotations

import logging
import time
import weakref
from dataclasses import dataclass
from typing import Any, Literal

from shared.domain.base_models import BASE_MODELS
from shared.errors import InvalidInput
from shared.ports import Deps, FineTuner, Unavailable

log = logging.getLogger(__name__)

Source = Literal["backend", "built-in"]
RETRY_SECONDS = 30.0
EVERY_LISTED_MODEL = "*"


@dataclass(frozen=True)
class _Look:
    """What one look at the backend's listing found: its model ids, or None when it could not list."""

    at: float
    listed: tuple[str, ...] | None


# One look per backend client: a process has one client, and a new one (another backend) starts afresh.
_looks: weakref.WeakKeyDictionary[FineTuner, _Look] = weakref.WeakKeyDictionary()


async def offered(deps: Deps) -> tuple[list[dict[str, Any]], Source]:
    """The base models on offer, and where the list comes from."""
    listed = await _listed(deps)
    if listed is None:
        return list(BASE_MODELS), "built-in"
    allowed = _allow_list(deps.settings.fine_tune_base_models)
    return [_backend_entry(model_id) for model_id in sorted(listed) if allowed is None or model_id in allowed], \
        "backend"


async def require_offered(deps: Deps, base_model: str) -> None:
    """422 naming `base_model` unless it is one of the base models on offer."""
    models, _ = await offered(deps)
    if base_model not in {model["id"] for model in models}:
        raise InvalidInput.field("base_model",
                                 f"{base_model!r} is not a supported base model; see GET /api/base-models")


async def _listed(deps: Deps) -> tuple[str, ...] | None:
    tuner = deps.fine_tuner
    if tuner is None:
        return None
    look = _looks.get(tuner)
    # Two requests on a cold cache may both look; that costs one extra listing, never a wrong answer.
    if look is None or _stale(look, deps.settings.catalog_cache_seconds):
        look = await _look(tuner, deps.settings.integration_timeout_seconds)
        _looks[tuner] = look
    return look.listed


def _stale(look: _Look, cache_seconds: float) -> bool:
    max_age = cache_seconds if look.listed is not None else min(RETRY_SECONDS, cache_seconds)
    return time.monotonic() - look.at >= max_age


async def _look(tuner: FineTuner, timeout: float) -> _Look:
    try:
        return _Look(time.monotonic(), tuple(await tuner.list_models(timeout)))
    except Unavailable as exc:
        log.warning("the fine-tuning backend's models cannot be listed, so the built-in list is offered: %s", exc)
        return _Look(time.monotonic(), None)


def _allow_list(setting: str) -> frozenset[str] | None:
    """The configured fine-tunable ids; None means every listed model."""
    names = frozenset(name.strip() for name in setting.split(",") if name.strip())
    return None if EVERY_LISTED_MODEL in names else names


def _backend_entry(model_id: str) -> dict[str, Any]:
    # A listing gives ids only; what the built-in entries describe beyond that is unknown here.
    return {"id": model_id, "name": model_id, "family": None, "parameters": None, "context_length": None,
            "license": None, "fine_tunable": True}
