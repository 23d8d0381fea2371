"""Rules a leaderboard must satisfy after every create or update, and how its prompt is filled."""

from __future__ import annotations

from typing import Any

from shared.domain.urls import huggingface_jsonl_url
from shared.errors import InvalidInput

JUDGE_FIELDS = ("judge_provider", "judge_model", "judge_auto_decide")


def fold_judge_settings(fields: dict[str, Any], eval_metadata: dict[str, Any]) -> dict[str, Any]:
    """Top-level judge_* fields live in eval_metadata, the field the seed lets PATCH change."""
    merged = dict(eval_metadata)
    for name in JUDGE_FIELDS:
        if name in fields:
            merged[name] = fields.pop(name)
    if merged.get("judge_auto_decide") is None:
        merged["judge_auto_decide"] = not merged.get("judge_model")
    return merged


def check_leaderboard(data: dict[str, Any], huggingface_base_url: str) -> dict[str, Any]:
    """Validate the whole leaderboard; returns it with the dataset URL canonicalised."""
    problems: list[dict[str, str]] = []
    if not (data.get("system_prompt") or data.get("model_prompt")):
        problems.append({"field": "system_prompt", "message": "system_prompt or model_prompt is required"})
    if data["dataset_type"] == "GET":
        url = data.get("dataset_url")
        canonical = huggingface_jsonl_url(url, huggingface_base_url) if url else None
        if canonical is None:
            problems.append({"field": "dataset_url", "message":
                             "GET datasets need a Hugging Face JSONL URL like "
                             f"{huggingface_base_url}/datasets/OWNER/NAME/resolve/main/FILE.jsonl"})
        else:
            data["dataset_url"] = canonical
    judge = data["eval_metadata"]
    if data["eval_type"] == "judge" and judge.get("judge_auto_decide") is False:
        for name in ("judge_provider", "judge_model"):
            if not judge.get(name):
                problems.append({"field": name, "message": "required when judge auto-decide is off"})
    if data["daily_event_limit"] > data["monthly_event_limit"]:
        problems.append({"field": "daily_event_limit", "message": "cannot exceed monthly_event_limit"})
    if problems:
        raise InvalidInput("; ".join(f"{p['field']}: {p['message']}" for p in problems), details=problems)
    return data


def effective_prompt(data: dict[str, Any]) -> str:
    """The task prompt template: system_prompt, or model_prompt when only that is set."""
    return data.get("system_prompt") or data.get("model_prompt") or ""


def fill_prompt(template: str, row: dict[str, Any]) -> str:
    """`{input}` (and `{id}`) replaced by the row's values; without `{input}`, the input is appended."""
    if "{input}" not in template:
        return f"{template}\n\n{row['input']}" if template else row["input"]
    return template.replace("{input}", row["input"]).replace("{id}", str(row["id"]))
