"""Resource family routes for datasets: check a Hugging Face JSONL URL before using it."""

from __future__ import annotations

from typing import Any

from shared.auth import scopes as S
from shared.http.routes import Call, Route
from shared.schemas.datasets import DatasetCheck, DatasetCheckReport
from shared.services import huggingface


async def check_huggingface_dataset(call: Call[DatasetCheck]) -> dict[str, Any]:
    return await huggingface.check_huggingface(call.deps, call.body.url)


ROUTES: list[Route] = [
    Route("POST", "/api/datasets/huggingface/check", check_huggingface_dataset,
          "Validate a Hugging Face JSONL dataset URL: shape, reachability, first rows, fields",
          scopes=(S.LEADERBOARDS_WRITE,), body=DatasetCheck, response=DatasetCheckReport),
]
