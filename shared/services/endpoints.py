"""Where a candidate or a judge is called: the OpenAI-compatible endpoint and its credentials.

- OpenRouter: the configured OpenRouter base URL, `model_url` as the model id, the
  candidate's token or else the workspace's OpenRouter key (or the deployment's).
- HuggingFace: a full endpoint URL as given, or a model id on the Hugging Face router,
  with the candidate's token or the workspace's Hugging Face token.
- Custom: `model_url` is the endpoint (base URL or full /chat/completions URL), called
  with the candidate's auth type; no `model` field is sent, so single-model servers work.
- Dr.Gero: the latest fine-tuned version of the own model, at the fine-tuning backend's
  serving URL with the deployment's key.
- Local: `model_url` names a model served on this machine (see `domain.local_models`); its
  server's loopback URL comes from the LocalModels port, never from a user, so it is not
  checked against pointing inside the network the way typed URLs are.
"""

from __future__ import annotations

from typing import Any

from shared.domain.leaderboard import Candidate
from shared.domain.local_models import DEFAULT_LOCAL_MODEL, parse_local_model
from shared.domain.platforms import auth_headers, openrouter_headers
from shared.domain.workspace import Integration
from shared.errors import InvalidInput
from shared.ports import Deps, Endpoint, ProviderConnectionError
from shared.services.outbound import DatasetUnavailable, check_outbound_url
from shared.stores.models import OwnModels
from shared.stores.workspaces import Integrations


class EndpointUnavailable(Exception):
    """The candidate cannot be called (no key, model not deployed, URL refused); recorded per row."""

    reason = "unavailable"


class EndpointRefused(EndpointUnavailable, ProviderConnectionError):
    """A user-supplied URL that is not called: it does not resolve, or it points inside the network.

    Callers see it exactly as an endpoint that cannot be reached (a connection error with
    the same reason and message), so answers cannot tell which names exist inside the network.
    """

    reason = ProviderConnectionError.reason


async def workspace_key(deps: Deps, workspace_id: str, provider: str) -> str | None:
    """A workspace's stored provider key (sealed at rest), if it set one."""
    found = await Integrations(deps.documents).get(Integration.id_for(workspace_id, provider))
    return deps.sealer.open(found.key_sealed) if found is not None else None


def _token(deps: Deps, candidate: Candidate) -> str | None:
    return deps.sealer.open(candidate.token_sealed) if candidate.token_sealed else None


async def candidate_endpoint(deps: Deps, candidate: Candidate) -> Endpoint:
    """Where and how to call the candidate; a URL its user typed is checked now, at call time."""
    endpoint = await _endpoint(deps, candidate)
    await _refuse_internal(deps, endpoint)
    return endpoint


async def _endpoint(deps: Deps, candidate: Candidate) -> Endpoint:
    settings = deps.settings
    platform, url, token = candidate.platform, candidate.model_url, _token(deps, candidate)
    if platform == "OpenRouter":
        key = token or await workspace_key(deps, candidate.workspace_id, "openrouter") or settings.openrouter_api_key
        if not key:
            raise EndpointUnavailable("No OpenRouter key: set one on the candidate or the workspace.")
        return Endpoint(settings.openrouter_base_url, url, openrouter_headers(key, settings.public_base_url or None))
    if platform == "HuggingFace":
        key = token or await workspace_key(deps, candidate.workspace_id, "huggingface") or settings.huggingface_token
        headers = auth_headers("bearer", key)
        if url and url.startswith(("http://", "https://")):
            return Endpoint(url, None, headers, user_supplied=True)
        return Endpoint(settings.huggingface_router_url, url, headers)
    if platform == "Custom":
        return Endpoint(url, None, auth_headers(candidate.auth_type, token, candidate.auth_header_name),
                        user_supplied=True)
    if platform == "Local":
        return await _local_endpoint(deps, url)
    model = await OwnModels(deps.documents).get(candidate.model_id or "")
    if model is None or not model.endpoint_url:
        raise EndpointUnavailable("This Dr.Gero model has no deployed endpoint yet (fine-tune it first).")
    # The serving URL and key are the deployment's (set when a fine-tune succeeded), not a user's.
    return Endpoint(model.endpoint_url, model.fine_tuned_model,
                    auth_headers("bearer", token or settings.fine_tune_api_key or None))


# A model on a shared CPU answers slower than a provider, and calls queue for its slots.
LOCAL_TIMEOUT_SECONDS = 300.0


async def _local_endpoint(deps: Deps, name: str | None) -> Endpoint:
    try:
        spec = parse_local_model(name)
    except ValueError as exc:
        raise EndpointUnavailable(str(exc)) from None
    refusal = deps.local_models.refusal(spec.model) if deps.local_models else "this server has no local models"
    if refusal:
        raise EndpointUnavailable(f"Local model: {refusal}")
    try:
        base_url = await deps.local_models.base_url(spec.model)
    except ProviderConnectionError as exc:
        raise EndpointUnavailable(exc.message) from None
    return Endpoint(base_url, spec.model, timeout_seconds=LOCAL_TIMEOUT_SECONDS, sampling=spec.sampling, free=True)


async def _refuse_internal(deps: Deps, endpoint: Endpoint) -> None:
    """Resolve a user-supplied URL and refuse private, loopback and metadata addresses (names can move)."""
    if not endpoint.user_supplied:
        return
    try:
        await check_outbound_url(endpoint.url, deps.settings.allow_private_urls)
    except (InvalidInput, DatasetUnavailable) as exc:
        raise EndpointRefused(getattr(exc, "message", str(exc))) from None


async def judge_endpoint(deps: Deps, workspace_id: str, eval_metadata: dict[str, Any]) -> Endpoint:
    """The judge: the leaderboard's judge_provider/judge_model, or the deployment's default."""
    provider = eval_metadata.get("judge_provider") or deps.settings.default_judge_provider
    platform = _platform(provider)
    # A Local judge without a model is the bundled one, not the deployment's default provider model.
    model = eval_metadata.get("judge_model") or (DEFAULT_LOCAL_MODEL if platform == "Local"
                                                 else deps.settings.default_judge_model)
    # The judge is called like a candidate of the workspace that has no token of its own.
    judge = Candidate(id="judge", workspace_id=workspace_id, leaderboard_id="", name="judge", platform=platform,
                      model_url=eval_metadata.get("judge_url") or model if platform == "Custom" else model,
                      created_at="")
    return await candidate_endpoint(deps, judge)


def _platform(provider: str) -> str:
    squashed = "".join(ch for ch in provider.lower() if ch.isalnum())
    return {"openrouter": "OpenRouter", "huggingface": "HuggingFace", "custom": "Custom",
            "local": "Local"}.get(squashed, "OpenRouter")
