"""Own models and their fine-tune runs."""

from __future__ import annotations

from shared.domain.own_model import FineTuneRun, OwnModel
from shared.stores.base import Store


class OwnModels(Store[OwnModel]):
    collection, aggregate, label = "models", OwnModel, "Model"


class FineTuneRuns(Store[FineTuneRun]):
    collection, aggregate, label = "fine_tune_runs", FineTuneRun, "Fine-tune run"
