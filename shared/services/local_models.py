"""Checking a Local model name where a person gives it (a candidate, a judge, a labeler): 422 naming the field."""

from __future__ import annotations

from typing import Any

from shared.domain.local_models import parse_local_model
from shared.errors import InvalidInput
from shared.ports import Deps

# Where a leaderboard names a model by provider: the provider field, and the model field it goes with.
MODEL_FIELDS = {"judge_provider": "judge_model", "labeler_provider": "labeler_model"}


def checked_local_model(deps: Deps, field: str, name: str | None) -> str:
    """The model's canonical name, if this deployment can serve it; InvalidInput on `field` otherwise."""
    try:
        spec = parse_local_model(name)
    except ValueError as exc:
        raise InvalidInput.field(field, str(exc)) from None
    if deps.local_models is None:
        raise InvalidInput.field(field, "this server cannot run local models")
    refusal = deps.local_models.refusal(spec.model)
    if refusal:
        raise InvalidInput.field(field, refusal)
    return spec.canonical


def check_local_judges(deps: Deps, eval_metadata: dict[str, Any]) -> None:
    """A leaderboard's Local judge and labeler models, checked as a candidate's would be (stored as given)."""
    for provider_field, model_field in MODEL_FIELDS.items():
        if eval_metadata.get(provider_field) == "Local":
            checked_local_model(deps, model_field, eval_metadata.get(model_field))
