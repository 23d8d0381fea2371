"""Model ports: calling chat models (candidates, judges, labelers) and fine-tuning own models.

`shared.providers` implements them. What can go wrong calling a model is a tree like httpx's:

    ProviderError                 any failure; `retryable`, `status`, `attempts`, `provider_body`
    ├── ProviderTimeout           no answer within the timeout (retried)             reason: timeout
    ├── ProviderConnectionError   refused, reset, DNS failure (retried)              reason: unreachable
    ├── ProviderRateLimited       429, with `retry_after` when sent (retried)        reason: rate_limited
    ├── ProviderServerError       5xx (retried)                                      reason: upstream_5xx
    ├── ProviderAuthError         401 or 403: the key is wrong or lacks access       reason: auth_failed
    ├── ProviderBadRequest        any other 4xx: the request is wrong                reason: bad_request
    └── ProviderBadResponse       2xx that is not a chat completion                  reason: bad_response

`message` has the detail (URLs, the client library's words) for traces and logs; `reason` is
the short, stable word that is safe to tell any caller.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from shared.ports.storage import Data


@dataclass(frozen=True)
class Endpoint:
    """Where and how to call one OpenAI-compatible model."""

    base_url: str
    model: str | None
    headers: dict[str, str] = field(default_factory=dict)
    timeout_seconds: float = 60.0
    # A URL a user typed (custom endpoints), as opposed to a configured provider base URL;
    # only those are checked against pointing inside the network.
    user_supplied: bool = False
    # Sampling settings every call carries unless the caller sets its own (a Local model's
    # `?temperature=...`); a `max_tokens` here caps the caller's.
    sampling: dict[str, Any] = field(default_factory=dict)
    # Calls cost nothing (a model on this machine): cost is recorded as 0, not as unknown.
    free: bool = False

    @property
    def url(self) -> str:
        base = self.base_url.rstrip("/")
        return base if base.endswith("/chat/completions") else f"{base}/chat/completions"


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    total_tokens: int | None = None
    cost_usd: float | None = None


@dataclass(frozen=True)
class Completion:
    text: str
    model: str | None
    usage: Usage
    latency_ms: float
    attempts: int
    raw: dict[str, Any]


@dataclass(frozen=True)
class StreamChunk:
    """One chunk of a streamed answer: its JSON object as the server sent it, the text it adds, and
    the usage, which servers put on the last chunk."""

    data: Data
    text: str = ""
    usage: Usage | None = None


class ChatModels(Protocol):
    """OpenAI-style chat completions, with the retries of a careful client; errors are ProviderError."""

    async def complete(self, endpoint: Endpoint, messages: list[dict[str, Any]], *, temperature: float | None = None,
                       max_tokens: int | None = None, response_format: dict[str, Any] | None = None) -> Completion:
        ...

    def stream(self, endpoint: Endpoint, messages: list[dict[str, Any]], **params: Any) -> AsyncIterator[StreamChunk]:
        """The answer's chunks, the usage (and cost) on the last one when the server gives it.

        Errors before the first chunk raise like `complete` (without retries: a caller that
        falls back to another model decides); a stream cut short ends the iteration.
        """
        ...

    async def aclose(self) -> None: ...


class LocalModels(Protocol):
    """Models served on this machine: one llama.cpp server per model file, started on first use.

    Each server listens on loopback only and runs in a child process, so a crash costs that
    model's calls, never the server; the next call after a crash starts it again.
    """

    def refusal(self, model: str) -> str | None:
        """Why the model file named cannot be served here (not allowed, missing, extra not installed), or None."""
        ...

    async def base_url(self, model: str) -> str:
        """The OpenAI-compatible base URL of the model's server, started if needed; ProviderConnectionError
        when it cannot start."""
        ...

    async def stop_idle(self, idle_seconds: float) -> int:
        """Stop the servers no call used for `idle_seconds`; how many were stopped."""
        ...

    async def stop_all(self) -> None: ...


class ProviderError(Exception):
    retryable = False
    reason = "failed"

    def __init__(self, message: str, *, status: int | None = None, provider_body: str | None = None,
                 retry_after: float | None = None) -> None:
        super().__init__(message)
        self.message, self.status, self.provider_body, self.retry_after = message, status, provider_body, retry_after
        self.attempts = 1


class ProviderTimeout(ProviderError):
    retryable = True
    reason = "timeout"


class ProviderConnectionError(ProviderError):
    retryable = True
    reason = "unreachable"


class ProviderRateLimited(ProviderError):
    retryable = True
    reason = "rate_limited"


class ProviderServerError(ProviderError):
    retryable = True
    reason = "upstream_5xx"


class ProviderAuthError(ProviderError):
    reason = "auth_failed"


class ProviderBadRequest(ProviderError):
    reason = "bad_request"


class ProviderBadResponse(ProviderError):
    reason = "bad_response"


@dataclass(frozen=True)
class FineTuneJob:
    """A fine-tuning job as the backend reports it, with the status normalised."""

    id: str
    status: str  # queued, running, succeeded, failed or cancelled
    fine_tuned_model: str | None = None
    error: str | None = None
    trained_tokens: int | None = None


class FineTuneRejected(Exception):
    """The backend refused the request itself (unknown base model, malformed file)."""


class FineTuner(Protocol):
    """A fine-tuning backend: takes a chat-format JSONL training file and trains a model on it.

    Failures to reach the backend raise `Unavailable`; requests it refuses raise `FineTuneRejected`.
    """

    async def upload_training_file(self, filename: str, jsonl: bytes) -> str:
        """Upload the training file; returns the backend's file id."""
        ...

    async def create_job(self, base_model: str, training_file: str, hyperparameters: Data,
                         suffix: str | None) -> FineTuneJob: ...

    async def get_job(self, job_id: str) -> FineTuneJob: ...

    async def list_models(self, timeout: float) -> list[str]:
        """The ids of the models the backend lists; `Unavailable` when it has no listing or does not answer.

        A listing names what exists, not what can be fine-tuned: callers decide which of them to offer.
        """
        ...
