"""How a Local model is named: a bundled model or a GGUF file, with optional sampling settings.

`smollm2-135m` is the model bundled with the `local` extra; `/models/qwen.gguf` is a file the
operator allows (`DRGERO_LOCAL_MODEL_PATHS`). Settings follow as a query string, so two
candidates can be the same weights sampled differently:

    smollm2-135m?temperature=1.6&top_p=0.95

The settings are sent with every call as defaults (a caller's own `temperature` wins), except
`max_tokens`, which caps whatever the caller asks: a small CPU model must not ramble for minutes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

DEFAULT_LOCAL_MODEL = "smollm2-135m"

# name -> (lowest, highest, type); what llama.cpp's OpenAI-compatible server reads per request.
SAMPLING = {
    "temperature": (0.0, 5.0, float),
    "top_p": (0.0, 1.0, float),
    "top_k": (0, 1000, int),
    "min_p": (0.0, 1.0, float),
    "seed": (0, 2**31 - 1, int),
    "max_tokens": (1, 8192, int),
}


@dataclass(frozen=True)
class LocalModelSpec:
    """A parsed Local model name: which weights, and the sampling settings its calls carry."""

    model: str
    sampling: dict[str, Any] = field(default_factory=dict)

    @property
    def is_path(self) -> bool:
        return "/" in self.model or "\\" in self.model or self.model.endswith(".gguf")

    @property
    def canonical(self) -> str:
        """The name as stored: settings in a fixed order, so two spellings of one model compare equal."""
        settings = sorted((name, f"{value:g}" if isinstance(value, float) else value)
                          for name, value in self.sampling.items())
        return f"{self.model}?{urlencode(settings)}" if settings else self.model


def parse_local_model(text: str | None) -> LocalModelSpec:
    """The spec a Local model name stands for; ValueError saying what is wrong with it."""
    text = (text or DEFAULT_LOCAL_MODEL).strip()
    if text.lower().startswith(("http://", "https://")) or "://" in text:
        raise ValueError("a Local model is a model name or a GGUF file path, not a URL "
                         "(use the Custom platform for a server of your own)")
    model, _, query = text.partition("?")
    if not model or any(ch.isspace() or ord(ch) < 32 for ch in model):
        raise ValueError("a Local model name cannot be empty or contain spaces")
    sampling: dict[str, Any] = {}
    for name, raw in parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query)) if query else []:
        if name not in SAMPLING:
            raise ValueError(f"unknown setting {name!r} (known: {', '.join(SAMPLING)})")
        sampling[name] = _number(name, raw)
    return LocalModelSpec(model, sampling)


def _number(name: str, raw: str) -> float | int:
    low, high, kind = SAMPLING[name]
    try:
        value = kind(raw)
    except ValueError:
        raise ValueError(f"{name} must be a{'n integer' if kind is int else ' number'}, not {raw!r}") from None
    if not low <= value <= high or value != value:
        raise ValueError(f"{name} must be between {low} and {high}")
    return value


def request_settings(sampling: dict[str, Any], asked: dict[str, Any]) -> dict[str, Any]:
    """The body fields a call sends: the caller's values over the model's, `max_tokens` capped by the model's."""
    merged = {**sampling, **{name: value for name, value in asked.items() if value is not None}}
    if "max_tokens" in sampling and asked.get("max_tokens") is not None:
        merged["max_tokens"] = min(sampling["max_tokens"], asked["max_tokens"])
    return merged
