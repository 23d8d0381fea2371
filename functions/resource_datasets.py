"""Resource family routes for datasets and their scoring: check a Hugging Face JSONL URL, dry-run a judge."""

from __future__ import annotations

from typing import Any

from shared.auth import scopes as S
from shared.http.routes import Call, Route
from shared.schemas.datasets import DatasetCheck, DatasetCheckReport
from shared.schemas.judge_test import JudgeTestReport, JudgeTestRequest
from shared.services import huggingface, judge_test


async def check_huggingface_dataset(call: Call[DatasetCheck]) -> dict[str, Any]:
    return await huggingface.check_huggingface(call.deps, call.body.url)


async def test_judge(call: Call[JudgeTestRequest]) -> dict[str, Any]:
    body = call.body.model_dump()
    body["rows"] = [row.model_dump() for row in call.body.rows]
    return await judge_test.dry_run(call.deps, call.workspace_id, call.path["leaderboard_id"], body)


ROUTES: list[Route] = [
    Route("POST", "/api/datasets/huggingface/check", check_huggingface_dataset,
          "Validate a Hugging Face JSONL dataset URL: shape, reachability, first rows, fields",
          scopes=(S.LEADERBOARDS_WRITE,), body=DatasetCheck, response=DatasetCheckReport),
    Route("POST", "/api/leaderboards/{leaderboard_id}/eval/test", test_judge,
          "Dry-run a judge on up to 20 dataset items or inline rows: scores and reasoning, nothing saved",
          scopes=(S.LEADERBOARDS_RUN,), body=JudgeTestRequest, response=JudgeTestReport),
]
