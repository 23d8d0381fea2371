"""The Trace aggregate: what one production call through a leaderboard asked, who answered, and what it cost."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from shared.domain.aggregate import Aggregate


class Trace(Aggregate):
    workspace_id: str
    leaderboard_id: str
    input: str
    metadata: dict[str, Any] = Field(default_factory=dict)
    created_at: str
    attempted: list[str] = Field(default_factory=list)  # candidate ids, in the order they were tried
    # error until a candidate answers; client_disconnected for a stream the client left
    status: str = "error"
    output: str | None = None
    error: str | None = None
    candidate_id: str | None = None
    model: str | None = None  # the answering candidate's name
    latency_ms: float | None = None
    tokens: int | None = None
    cost_usd: float | None = None
    fallback: bool = False  # answered by a runner-up, not the chosen model
    # Each candidate that could not answer: {candidate_id, name, reason, detail}; the detail
    # (URLs, the client library's words) is for traces:read, the reason for any caller.
    failures: list[dict[str, str]] = Field(default_factory=list)
    # The caller's reference answer (`expected`, or `metadata.expected`): online evaluation
    # scores such traces by exact match instead of asking a judge.
    expected: str | None = None
    # Online evaluation's verdict once the trace was sampled and scored (or skipped):
    # {status, score, reasoning, evaluator, judge_model, judged_at, reason}.
    online_eval: dict[str, Any] | None = None

    def failed(self, candidate_id: str, name: str, reason: str, detail: str) -> None:
        self.failures.append({"candidate_id": candidate_id, "name": name, "reason": reason, "detail": detail})
        self.error = f"{name}: {detail}"

    @property
    def judged_model(self) -> str | None:
        """The candidate whose live quality the trace speaks for: the one that answered, else the first tried."""
        return self.candidate_id or (self.attempted[0] if self.attempted else None)

    def answered_by(self, candidate_id: str, name: str) -> None:
        self.candidate_id, self.model, self.error = candidate_id, name, None
        self.fallback = len(self.attempted) > 1
