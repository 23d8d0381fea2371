"""Valid request bodies, so each test states only what it is about."""

from __future__ import annotations

import uuid
from typing import Any

from shared.schemas.auto_select import AutoSelectRequest
from shared.schemas.candidates import CandidateCreate, CandidateUpdate
from shared.schemas.dataset_items import DatasetItemUpdate
from shared.schemas.fine_tunes import FineTuneStart
from shared.schemas.inference import ChatCompletionsRequest, InferenceRequest
from shared.schemas.judge_test import JudgeTestRequest
from shared.schemas.leaderboards import LeaderboardUpdate
from shared.schemas.models import ModelUpdate
from shared.schemas.push import PushBody, PushTokenCreate
from shared.schemas.runs import AnnotationCreate, RunCreate

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


def _catalog_entry(created: int, prompt: str, completion: str, context: int, hf: str = "",
                   outputs: tuple[str, ...] = ("text",)) -> dict[str, Any]:
    return {"created": created, "context_length": context, "hugging_face_id": hf,
            "pricing": {"prompt": prompt, "completion": completion, "request": "0", "image": "0"},
            "architecture": {"modality": f"text->{'+'.join(outputs)}", "input_modalities": ["text"],
                             "output_modalities": list(outputs)}}


# OpenRouter catalog entries as GET /api/v1/models lists them (prices are USD per token).
OPENROUTER_CATALOG: dict[str, dict[str, Any]] = {
    "openai/gpt-4o-mini": _catalog_entry(1721260800, "0.00000015", "0.0000006", 128000),
    "anthropic/claude-sonnet-4": _catalog_entry(1747930371, "0.000003", "0.000015", 200000),
    "meta-llama/llama-3.1-8b-instruct": _catalog_entry(
        1721692800, "0.00000002", "0.00000005", 131072, "meta-llama/Meta-Llama-3.1-8B-Instruct"),
    "meta-llama/llama-3.3-70b-instruct": _catalog_entry(
        1733506137, "0.00000013", "0.00000039", 131072, "meta-llama/Llama-3.3-70B-Instruct"),
    "mistralai/mistral-small-3.2-24b-instruct": _catalog_entry(
        1750443016, "0.00000005", "0.0000001", 131072, "mistralai/Mistral-Small-3.2-24B-Instruct-2506"),
    "qwen/qwen3-32b": _catalog_entry(1745875945, "0.00000005", "0.0000002", 40960, "Qwen/Qwen3-32B"),
    "deepseek/deepseek-chat-v3.1": _catalog_entry(
        1755779628, "0.0000002", "0.0000008", 163840, "deepseek-ai/DeepSeek-V3.1"),
    "black-forest-labs/flux-1.1-pro": _catalog_entry(1730000000, "0.00004", "0", 0, outputs=("image",)),
    "openrouter/auto": _catalog_entry(1699401600, "-1", "-1", 2000000),
}


def _route_bodies() -> dict[type, dict[str, Any]]:
    return {LeaderboardUpdate: {"description": "taken over"}, CandidateCreate: openrouter_candidate(model_url="x/y"),
            CandidateUpdate: {"name": "taken over"},
            ModelUpdate: {"description": "taken over"}, PushBody: {"input": "sneaked in"},
            PushTokenCreate: {"name": "stolen"}, RunCreate: {}, AnnotationCreate: {"score": 1},
            InferenceRequest: {"input": "sneaked in"},
            ChatCompletionsRequest: {"model": "x", "messages": [{"role": "user", "content": "sneaked in"}]},
            AutoSelectRequest: {"number_of_models": 1}, FineTuneStart: {"leaderboard_id": str(uuid.uuid4())},
            DatasetItemUpdate: {"expected": "taken over"},
            JudgeTestRequest: {"rows": [{"input": "sneaked in", "output": "x"}]}}


# A valid body for each route body schema that generated tests send (others get `{}`).
BODIES = _route_bodies()


def valid_body(route: Any) -> Any:
    return BODIES.get(route.body, {})
