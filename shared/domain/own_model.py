"""Own (Dr.Gero) models, which compete as candidates, and the fine-tune runs that give them versions."""

from __future__ import annotations

from typing import Any

from shared.domain.aggregate import Aggregate

ACTIVE = ("queued", "running")  # a fine-tune run in either state has not ended


class OwnModel(Aggregate):
    workspace_id: str
    name: str
    description: str | None = None
    base_model: str
    metadata: dict[str, Any] | None = None
    status: str = "draft"  # ready once a fine-tune succeeded
    version: int = 0  # one more with each successful fine-tune
    endpoint_url: str | None = None
    fine_tuned_model: str | None = None
    created_at: str
    updated_at: str

    def fine_tuned(self, fine_tuned_model: str, endpoint_url: str, at: str) -> int:
        """A fine-tune succeeded: the next version serves at `endpoint_url`; returns that version."""
        self.version += 1
        self.status, self.fine_tuned_model, self.endpoint_url, self.updated_at = "ready", fine_tuned_model, endpoint_url, at
        return self.version


class FineTuneRun(Aggregate):
    workspace_id: str
    model_id: str
    leaderboard_id: str
    base_model: str
    dataset: dict[str, Any]
    hyperparameters: dict[str, Any]
    backend_file_id: str
    backend_job_id: str
    status: str  # queued, running, succeeded, failed, cancelled
    fine_tuned_model: str | None = None
    model_version: int | None = None
    error: str | None = None
    created_at: str
    updated_at: str
    finished_at: str | None = None

    @property
    def active(self) -> bool:
        return self.status in ACTIVE
