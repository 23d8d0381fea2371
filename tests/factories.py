"""Valid request bodies, so each test states only what it is about."""

from __future__ import annotations

from typing import Any

HF_URL = "https://huggingface.co/datasets/acme/support-evals/resolve/main/eval.jsonl"


def get_leaderboard(**overrides: Any) -> dict[str, Any]:
    return {
        "name": "Support QA",
        "system_prompt": "Answer the support question clearly.\n\nQuestion:\n{input}",
        "dataset_type": "GET",
        "dataset_url": HF_URL,
        "eval_type": "judge",
        "judge_provider": "OpenRouter",
        "judge_model": "openai/gpt-5.2",
        **overrides,
    }


def push_leaderboard(**overrides: Any) -> dict[str, Any]:
    return {
        "name": "Production Support Feedback",
        "system_prompt": "Answer the user request.\n\nInput:\n{input}",
        "dataset_type": "PUSH",
        "eval_type": "exact",
        **overrides,
    }


def openrouter_candidate(**overrides: Any) -> dict[str, Any]:
    return {"name": "GPT OSS 120B via OpenRouter", "platform": "OpenRouter",
            "model_url": "openai/gpt-oss-120b", **overrides}


def own_model(**overrides: Any) -> dict[str, Any]:
    return {"name": "support-tuned", "base_model": "HuggingFaceTB/SmolLM2-135M-Instruct", **overrides}
