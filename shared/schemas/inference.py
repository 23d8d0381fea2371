"""Inference and trace request and response models (seed: drgero-api-overview, runtime v1)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from shared.domain.times import as_stored
from shared.schemas.common import ApiInput, ApiOutput, ErrorBody


class ChatMessage(ApiInput):
    role: Literal["system", "user", "assistant", "tool", "developer"]
    content: str = Field(max_length=200_000)


class InferenceRequest(ApiInput):
    input: str | None = Field(None, min_length=1, max_length=200_000)
    messages: list[ChatMessage] | None = Field(None, min_length=1, max_length=200)
    temperature: float | None = Field(None, ge=0, le=2)
    max_tokens: int | None = Field(None, ge=1, le=100_000)
    metadata: dict[str, Any] | None = None
    expected: str | None = Field(None, max_length=200_000, description="The right answer, when the caller knows "
                                 "it: online evaluation then scores the trace by exact match.")

    @model_validator(mode="after")
    def _one_input(self) -> InferenceRequest:
        if (self.input is None) == (self.messages is None):
            raise ValueError("send exactly one of input or messages")
        return self


class ModelRef(ApiOutput):
    id: str
    name: str


class InferenceUsage(ApiOutput):
    prompt_tokens: int | None
    completion_tokens: int | None
    total_tokens: int | None


class InferenceResponse(ApiOutput):
    output: str
    model: ModelRef
    trace_id: str
    usage: InferenceUsage
    latency_ms: float
    cost_usd: float | None
    fallback: bool = Field(description="True when the chosen model failed and a runner-up answered.")


class TraceQuery(ApiInput):
    model_config = {"extra": "ignore", "populate_by_name": True, "alias_generator": None}
    since: str | None = Field(None, max_length=40, description="ISO-8601 UTC lower bound (inclusive).")
    until: str | None = Field(None, max_length=40, description="ISO-8601 UTC upper bound (exclusive).")
    status: Literal["ok", "error"] | None = None
    model: str | None = Field(None, max_length=100, description="Candidate (leaderboard model) id.")
    format: Literal["json", "jsonl", "ndjson"] = "json"
    quality_days: int | None = Field(None, ge=1, le=90, description="With format=jsonl: end the export with one "
                                     "line {\"quality\": ...}, the daily quality series of these last days.")

    @field_validator("since", "until")
    @classmethod
    def _iso(cls, value: str | None) -> str | None:
        return None if value is None else as_stored(value)
    limit: int = Field(50, ge=1, le=500)
    offset: int = Field(0, ge=0, le=1_000_000)


class CandidateFailure(ApiOutput):
    candidate_id: str
    name: str
    reason: str = Field(description="timeout, unreachable, rate_limited, upstream_5xx, auth_failed, bad_request, "
                                     "bad_response or unavailable (no key, URL refused, not deployed).")
    detail: str = Field(description="What happened, as the client library or the provider said it.")


class TracePublic(ApiOutput):
    id: str
    leaderboard_id: str
    candidate_id: str | None
    model: str | None
    input: str
    output: str | None
    status: str
    error: str | None
    latency_ms: float | None
    tokens: int | None
    cost_usd: float | None
    metadata: dict[str, Any]
    attempted: list[str]
    fallback: bool
    failures: list[CandidateFailure] = Field(default_factory=list)
    expected: str | None = None
    online_eval: dict[str, Any] | None = Field(None, description="Online evaluation's verdict: status (scored, "
                                               "skipped or failed), score, reasoning, evaluator, judge_model, "
                                               "judged_at, reason.")
    created_at: str


class InferenceFailed(ErrorBody):
    """Every candidate tried failed (502): the trace says what each answered."""

    trace_id: str


class ChatCompletionsRequest(ApiInput):
    """The OpenAI chat completions body; `model` is accepted and ignored (the leaderboard decides)."""

    model_config = {"extra": "ignore", "alias_generator": None, "populate_by_name": True}
    model: str | None = Field(None, max_length=200)
    messages: list[ChatMessage] = Field(min_length=1, max_length=200)
    temperature: float | None = Field(None, ge=0, le=2)
    max_tokens: int | None = Field(None, ge=1, le=100_000)
    stream: bool = False
    metadata: dict[str, Any] | None = None


class ChatCompletion(ApiOutput):
    id: str
    object: str
    created: int
    model: str
    choices: list[dict[str, Any]]
    usage: InferenceUsage


class OpenAIErrorDetail(ApiOutput):
    message: str
    type: str
    code: str


class OpenAIError(ApiOutput):
    """The chat completions endpoint fails the way OpenAI's does, so its SDKs read the message."""

    error: OpenAIErrorDetail
    trace_id: str
