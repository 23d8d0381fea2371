"""The built-in base models: what is offered when the fine-tuning backend cannot list its own.

(`shared/services/base_models.py` decides which list answers.)
"""

from __future__ import annotations

BASE_MODELS: tuple[dict, ...] = (
    {"id": "HuggingFaceTB/SmolLM2-135M-Instruct", "name": "SmolLM2 135M Instruct", "family": "SmolLM2",
     "parameters": "135M", "context_length": 8192, "license": "apache-2.0", "fine_tunable": True},
    {"id": "HuggingFaceTB/SmolLM2-360M-Instruct", "name": "SmolLM2 360M Instruct", "family": "SmolLM2",
     "parameters": "360M", "context_length": 8192, "license": "apache-2.0", "fine_tunable": True},
    {"id": "HuggingFaceTB/SmolLM2-1.7B-Instruct", "name": "SmolLM2 1.7B Instruct", "family": "SmolLM2",
     "parameters": "1.7B", "context_length": 8192, "license": "apache-2.0", "fine_tunable": True},
    {"id": "Qwen/Qwen2.5-0.5B-Instruct", "name": "Qwen2.5 0.5B Instruct", "family": "Qwen2.5",
     "parameters": "0.5B", "context_length": 32768, "license": "apache-2.0", "fine_tunable": True},
    {"id": "Qwen/Qwen2.5-1.5B-Instruct", "name": "Qwen2.5 1.5B Instruct", "family": "Qwen2.5",
     "parameters": "1.5B", "context_length": 32768, "license": "apache-2.0", "fine_tunable": True},
    {"id": "meta-llama/Llama-3.2-1B-Instruct", "name": "Llama 3.2 1B Instruct", "family": "Llama 3.2",
     "parameters": "1B", "context_length": 131072, "license": "llama3.2", "fine_tunable": True},
)
BASE_MODEL_IDS = frozenset(model["id"] for model in BASE_MODELS)
