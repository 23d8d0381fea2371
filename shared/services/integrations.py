"""Workspace provider integrations: check a key with the provider, store it sealed, show it redacted.

A stored key is what runs, inference and auto-select use for a candidate without its own
token (see `endpoints.workspace_key`). Checking asks the provider's own key endpoint:
OpenRouter `GET {openrouter_base_url}/key`, Hugging Face `GET {huggingface_base_url}/api/whoami-v2`.
"""

from __future__ import annotations

import json
from typing import Any

from shared.auth.secrets import redact
from shared.domain.platforms import openrouter_headers
from shared.domain.times import iso
from shared.domain.workspace import Integration
from shared.errors import InvalidInput, NotFoundError, UpstreamUnavailable
from shared.ports import Data, Deps, Fetched, FetchFailed
from shared.stores.workspaces import Integrations

PROVIDERS = ("openrouter", "huggingface")


def _request(deps: Deps, provider: str, key: str) -> tuple[str, dict[str, str]]:
    settings = deps.settings
    if provider == "openrouter":
        return f"{settings.openrouter_base_url.rstrip('/')}/key", openrouter_headers(key)
    return f"{settings.huggingface_base_url.rstrip('/')}/api/whoami-v2", {"Authorization": f"Bearer {key}"}


def _account(provider: str, body: Any) -> dict[str, Any]:
    """The useful, non-secret facts the provider tells about the key."""
    if not isinstance(body, dict):
        return {}
    if provider == "openrouter":
        data = body.get("data") if isinstance(body.get("data"), dict) else {}
        return {k: data.get(k) for k in ("label", "usage", "limit", "limit_remaining", "is_free_tier") if k in data}
    token = (body.get("auth") or {}).get("accessToken") or {}
    return {"name": body.get("name"), "type": body.get("type"), "token_name": token.get("displayName"),
            "role": token.get("role")}


def _reason(answer: Fetched) -> str:
    try:
        body = json.loads(answer.body)
    except ValueError:
        return f"HTTP {answer.status}"
    error = body.get("error") if isinstance(body, dict) else None
    message = error.get("message") if isinstance(error, dict) else error
    fallback = body.get("message") if isinstance(body, dict) else None
    return str(message or fallback or f"HTTP {answer.status}")[:300]


async def check_key(deps: Deps, provider: str, key: str) -> Data:
    """Ask the provider whether the key works; nothing is stored."""
    url, headers = _request(deps, provider, key)
    try:
        answer = await deps.fetch.get(url, headers=headers, timeout=deps.settings.integration_timeout_seconds)
    except FetchFailed as exc:
        raise UpstreamUnavailable(f"{provider} did not answer the key check ({exc}); try again later.") from None
    if answer.status in (401, 403):
        return {"provider": provider, "valid": False, "reason": _reason(answer), "account": None}
    if answer.status != 200:
        raise UpstreamUnavailable(f"{provider} answered the key check with {_reason(answer)}; try again later.")
    try:
        account = _account(provider, json.loads(answer.body))
    except ValueError:
        raise UpstreamUnavailable(f"{provider} answered the key check with something that is not JSON.") from None
    return {"provider": provider, "valid": True, "reason": "The provider accepted the key.", "account": account}


async def put_integration(deps: Deps, workspace_id: str, provider: str, key: str, validate: bool) -> Integration:
    """Store (or replace) the workspace's key, sealed; a key the provider rejects is refused."""
    checked = await check_key(deps, provider, key) if validate else None
    if checked is not None and not checked["valid"]:
        raise InvalidInput.field("api_key", f"{provider} rejected the key: {checked['reason']}")
    integration = Integration(
        id=Integration.id_for(workspace_id, provider), workspace_id=workspace_id, provider=provider,
        key_sealed=deps.sealer.seal(key), key_hint=redact(key), account=checked["account"] if checked else None,
        validated=validate, updated_at=iso(deps.clock.now()))
    await deps.documents.set(Integrations.collection, integration.id, integration.stored())  # replaces any earlier key
    return integration


async def list_integrations(deps: Deps, workspace_id: str) -> list[Integration]:
    found = await Integrations(deps.documents).find({"workspace_id": workspace_id}, order=())
    return sorted(found, key=lambda integration: integration.provider)


async def delete_integration(deps: Deps, workspace_id: str, provider: str) -> None:
    if not await Integrations(deps.documents).delete(Integration.id_for(workspace_id, provider)):
        raise NotFoundError(f"No {provider} integration is set for this workspace.")
