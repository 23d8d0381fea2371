"""Fine-tuning own models: start a run, list runs, sync them with the backend."""

from __future__ import annotations

from typing import Any

from pydantic import AliasChoices, Field

from shared.schemas.common import ApiInput, ApiOutput
from shared.schemas.models import ModelPublic


class Hyperparameters(ApiInput):
    """Passed to the backend as given; the backend picks what is left out."""

    n_epochs: int | None = Field(None, ge=1, le=50, validation_alias=AliasChoices("n_epochs", "nEpochs", "epochs"))
    batch_size: int | None = Field(None, ge=1, le=1024)
    learning_rate_multiplier: float | None = Field(None, gt=0, le=10)


class FineTuneStart(ApiInput):
    leaderboard_id: str = Field(min_length=1, max_length=200,
                                description="Train on this leaderboard's current dataset (rows with expected).")
    base_model: str | None = Field(None, min_length=1, max_length=200,
                                   description="A fine-tunable id of GET /api/base-models; the model's own by default.")
    hyperparameters: Hyperparameters = Field(default_factory=Hyperparameters)
    suffix: str | None = Field(None, pattern=r"^[a-z0-9-]{1,40}$",
                               description="Added to the fine-tuned model's name by the backend.")


class FineTuneRunPublic(ApiOutput):
    id: str
    model_id: str
    leaderboard_id: str
    base_model: str
    dataset: dict[str, Any] = Field(description="Which dataset version was used and how many rows trained.")
    hyperparameters: dict[str, Any]
    status: str = Field(description="queued, running, succeeded, failed or cancelled.")
    backend_job_id: str
    fine_tuned_model: str | None
    model_version: int | None = Field(description="The model version this run produced, once it succeeded.")
    error: str | None
    created_at: str
    updated_at: str
    finished_at: str | None


class FineTuneSynced(ApiOutput):
    data: list[FineTuneRunPublic] = Field(description="The runs that were still in progress, as they are now.")
    count: int
    model: ModelPublic
