"""Dataset check request and response models."""

from __future__ import annotations

from pydantic import Field

from shared.schemas.common import ApiInput, ApiOutput


class DatasetCheck(ApiInput):
    url: str = Field(min_length=1, max_length=2_000, description="A Hugging Face dataset JSONL URL.")


class DatasetCheckReport(ApiOutput):
    url: str = Field(description="The URL in its canonical resolve/ form when the shape is right.")
    valid: bool
    reachable: bool | None
    http_status: int | None
    rows_sampled: int
    rows_usable: int
    fields: list[str]
    input_field: str | None
    expected_field: str | None
    problems: list[str] = Field(description="What is wrong or missing, in plain words.")
