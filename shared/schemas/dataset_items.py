"""Dataset item request and response models (PUSH datasets, one row at a time)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field, field_validator, model_validator

from shared.domain.push_rows import MAX_FIELD_CHARS
from shared.domain.times import as_stored
from shared.schemas.common import ApiInput, ApiOutput

ORDERS = ("position", "-position", "pushed_at", "-pushed_at", "id", "-id")


class ItemQuery(ApiInput):
    model_config = ConfigDict(extra="ignore", populate_by_name=True, alias_generator=None)
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=1_000_000)
    search: str | None = Field(None, min_length=1, max_length=200,
                               description="Case-insensitive text in the input or the expected answer.")
    golden: bool | None = None
    source: str | None = Field(None, max_length=200, description="metadata.source (`inference` for captured traces).")
    has_expected: bool | None = None
    pushed_after: str | None = Field(None, max_length=40, description="ISO-8601; pushed_at >= this.")
    pushed_before: str | None = Field(None, max_length=40, description="ISO-8601; pushed_at < this.")
    deleted: Literal["exclude", "include", "only"] = "exclude"
    order_by: Literal["position", "-position", "pushed_at", "-pushed_at", "id", "-id"] = Field(
        "position", description="position is the dataset's order (consolidated rows, restored rows, then pending "
                                "pushes) and pages without reading further than the page; the others read every "
                                "row and allow offset + limit up to 10,000.")

    @field_validator("pushed_after", "pushed_before")
    @classmethod
    def _iso(cls, value: str | None) -> str | None:
        return None if value is None else as_stored(value)


class DatasetItemPublic(ApiOutput):
    id: str
    input: str
    expected: str | None
    messages: list[dict[str, Any]] | None = None
    metadata: dict[str, Any]
    golden: bool
    source: str | None = Field(description="metadata.source, as pushed.")
    pushed_at: str | None
    ref_trace_id: str | None = Field(description="The trace the row was captured from.")
    ref_timestamp: str | None = Field(description="When the production call or event happened.")
    ref_source_id: str | None = Field(description="The id of the event in the app that pushed it.")
    deleted_at: str | None
    state: Literal["consolidated", "pending"] = Field(
        description="consolidated: in the dataset version (or its deleted rows); pending: pushed, waiting for "
                    "the next consolidation, which may still drop it as a duplicate.")
    dataset_version: int
    edit_pending: bool = Field(description="An edit is applied here but not yet folded into a version: runs and "
                                           "downloads see it from the next version on.")
    version: str = Field(description="The item's version tag (also its ETag); send it as If-Match to PATCH.")


class ItemPage(ApiOutput):
    data: list[DatasetItemPublic]
    count: int | None = Field(description="Matching items in all; null when the page was found before the end.")
    limit: int
    offset: int
    has_more: bool
    dataset_version: int
    pending_edits: int


class DatasetItemUpdate(ApiInput):
    """The fields to change; `version` does what If-Match does."""

    input: str | None = Field(None, min_length=1, max_length=MAX_FIELD_CHARS)
    expected: str | None = Field(None, max_length=MAX_FIELD_CHARS)
    metadata: dict[str, Any] | None = None
    golden: bool | None = None
    version: str | None = Field(None, max_length=64)

    model_config = ConfigDict(str_strip_whitespace=False)

    @model_validator(mode="after")
    def _something(self) -> DatasetItemUpdate:
        if not self.model_fields_set - {"version"}:
            raise ValueError("send at least one of input, expected, metadata, golden")
        if "input" in self.model_fields_set and self.input is None:
            raise ValueError("input cannot be null")
        if "golden" in self.model_fields_set and self.golden is None:
            raise ValueError("golden must be true or false")
        return self
