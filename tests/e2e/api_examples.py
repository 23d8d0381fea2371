"""The curl examples of the product's API documents, kept here as data.

The project owns this table so the suite runs on any clone. Each entry holds the facts a
reader of the documents relies on: method, path, headers and body, written with the same
`$VARIABLES` the documents use. Where the documents are present, a test checks that this
table and their examples still agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class BodyFile:
    """A request body that curl reads from a file in the working directory (`-d @name`)."""

    name: str


@dataclass(frozen=True)
class ApiExample:
    id: str
    method: str
    path: str  # as the documents write it, with $VARIABLES and any query string
    headers: tuple[tuple[str, str], ...]
    body: dict[str, Any] | BodyFile | None = None
    output: str = "| jq"  # what follows the request: jq, a redirect to a file, or nothing


BEARER = ("Authorization", "Bearer $DRGERO_TOKEN")
SESSION = ("Authorization", "Bearer $SUPABASE_ACCESS_TOKEN")
PUSH_TOKEN = ("X-Dr.Gero-Push-Token", "$PUSH_TOKEN")
JSON = ("Content-Type", "application/json")

# The schedule the leaderboards document saves with `-d @schedule.json`.
SCHEDULE = {
    "version": 2,
    "triggers": {
        "model_version": {"enabled": True, "cadence": "WEEKLY"},
        "new_data": {"enabled": True, "check_cadence": "DAILY", "every_new_events": 500},
        "cron": {"enabled": True, "preset": "CUSTOM", "expression": "0 6 * * 1"},
    },
    "dataset": {"mode": "LIMIT", "limit": {"auto": False, "rows": 5000, "algorithm": "LAST_N"}},
}
SCHEDULE_FILE = BodyFile("schedule.json")

LEADERBOARD = "/api/leaderboards/$LEADERBOARD_ID"
PUSH_DATASET = "/v1/leaderboard/$PUSH_LEADERBOARD_ID/dataset"

OVERVIEW = [
    ApiExample("health", "GET", "/healthz", ()),
]

LEADERBOARDS = [
    ApiExample("list-leaderboards", "GET", "/api/leaderboards?limit=50&offset=0", (BEARER,)),
    ApiExample("create-get-leaderboard", "POST", "/api/leaderboards", (BEARER, JSON), {
        "name": "Support QA",
        "system_prompt": "Answer the support question clearly.\n\nQuestion:\n{input}",
        "dataset_type": "GET",
        "dataset_url": "https://huggingface.co/datasets/acme/support-evals/resolve/main/eval.jsonl",
        "eval_type": "judge",
        "judge_provider": "OpenRouter",
        "judge_model": "openai/gpt-5.2",
    }),
    ApiExample("create-push-leaderboard", "POST", "/api/leaderboards", (BEARER, JSON), {
        "name": "Production Support Feedback",
        "system_prompt": "Answer the user request.\n\nInput:\n{input}",
        "dataset_type": "PUSH",
        "eval_type": "judge",
        "judge_provider": "OpenRouter",
        "judge_model": "openai/gpt-5.2",
        "auto_limit_size": True,
        "max_samples_to_gather": 1000,
        "daily_event_limit": 5000,
        "monthly_event_limit": 50000,
        "consolidate_every_events": 500,
        "consolidate_every_hours": 24,
        "dedupe": True,
    }),
    ApiExample("get-leaderboard", "GET", LEADERBOARD, (BEARER,)),
    ApiExample("update-leaderboard", "PATCH", LEADERBOARD, (BEARER, JSON), {
        "description": "Production support leaderboard",
        "chosen_model_strategy": "ranking_winner",
    }),
    ApiExample("delete-leaderboard", "DELETE", LEADERBOARD, (BEARER,)),
    ApiExample("add-candidate", "POST", f"{LEADERBOARD}/models", (BEARER, JSON), {
        "name": "GPT OSS 120B via OpenRouter",
        "platform": "OpenRouter",
        "model_url": "openai/gpt-oss-120b",
    }),
    ApiExample("auto-select-candidates", "POST", f"{LEADERBOARD}/models/auto-select", (SESSION, JSON), {
        "number_of_models": 5,
        "limit_cost": True,
        "input_price_per_m_tokens": 0.5,
        "output_price_per_m_tokens": 1,
        "limit_latency": True,
        "latency_p95_seconds": 1,
        "latency_p99_seconds": 3,
        "only_open_source": False,
    }),
    ApiExample("list-candidates", "GET", f"{LEADERBOARD}/models", (BEARER,)),
    ApiExample("remove-candidate", "DELETE", f"{LEADERBOARD}/models/$LEADERBOARD_MODEL_ID", (BEARER,)),
    ApiExample("run-leaderboard", "POST", f"{LEADERBOARD}/run", (BEARER, JSON), {
        # Placeholders the reader swaps for real candidate ids by hand.
        "model_ids": ["LEADERBOARD_MODEL_ID_1", "LEADERBOARD_MODEL_ID_2"],
        "run_source": "manual",
    }),
    ApiExample("save-schedule", "PATCH", LEADERBOARD, (BEARER, JSON), SCHEDULE_FILE),
]

PUSH_DATASETS = [
    ApiExample("push-one-row", "POST", f"{PUSH_DATASET}/push", (BEARER, JSON), {
        "input": "What did the user ask?",
        "output": "The answer your current LLM returned",
    }, output=""),
    ApiExample("push-rows", "POST", f"{PUSH_DATASET}/push", (BEARER, JSON), {
        "rows": [
            {"id": "ticket-1001", "input": "How do I cancel?", "output": "You can cancel from Billing settings.",
             "metadata": {"source": "support", "tier": "free"}},
            {"id": "ticket-1002", "input": "Where are invoices?", "output": "Open Settings, then Billing.",
             "tags": ["billing", "invoice"]},
        ],
    }),
    ApiExample("create-push-token", "POST", f"{PUSH_DATASET}/token", (BEARER, JSON), {"name": "production webhook"}),
    ApiExample("push-with-push-token", "POST", f"{PUSH_DATASET}/push", (PUSH_TOKEN, JSON),
               {"input": "hello", "output": "world"}),
    ApiExample("dataset-status", "GET", f"{PUSH_DATASET}/status", (BEARER,)),
    ApiExample("download-dataset", "GET", PUSH_DATASET, (BEARER,), output="> dataset.jsonl"),
    ApiExample("consolidate-dataset", "POST", f"{PUSH_DATASET}/consolidate", (BEARER,)),
    ApiExample("auto-label-dataset", "POST", f"{PUSH_DATASET}/auto-labels", (BEARER,)),
    ApiExample("revoke-push-tokens", "DELETE", f"{PUSH_DATASET}/tokens", (BEARER,)),
]

EXAMPLES = OVERVIEW + LEADERBOARDS + PUSH_DATASETS
