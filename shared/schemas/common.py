"""Base models and the list envelope shared by every endpoint."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, RootModel
from pydantic.alias_generators import to_camel

T = TypeVar("T")


# A credential sent on to a provider in an HTTP header: printable ASCII only, as headers carry.
HEADER_SAFE = r"^[\x20-\x7e]+$"


class ApiInput(BaseModel):
    """A request body: snake_case or camelCase names, unknown fields refused."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", str_strip_whitespace=True
    )

    def given(self) -> dict[str, Any]:
        """Only the fields the caller actually sent, by snake_case name."""
        return {name: getattr(self, name) for name in self.model_fields_set}


class ApiOutput(BaseModel):
    """An answer's schema: what it does not declare cannot be answered (a service that tries fails loudly)."""

    model_config = ConfigDict(extra="forbid")


class PageQuery(BaseModel):
    """`limit` and `offset` of a list endpoint."""

    model_config = ConfigDict(extra="ignore")
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=1_000_000)


class Page(ApiOutput, Generic[T]):
    data: list[T]
    count: int = Field(description="Total number of matching items, across all pages.")
    limit: int
    offset: int

    @staticmethod
    def of(items: Sequence[Any], count: int, query: PageQuery) -> dict[str, Any]:
        """The list envelope of one page the store already cut; the route's Page[X] validates the items."""
        return {"data": list(items), "count": count, "limit": query.limit, "offset": query.offset}

    @staticmethod
    def window(items: Sequence[Any], query: PageQuery) -> dict[str, Any]:
        """The envelope of a page cut from a short list held whole (a leaderboard's candidates)."""
        return Page.of(items[query.offset: query.offset + query.limit], len(items), query)


class Deleted(ApiOutput):
    id: str
    deleted: bool = True


class Health(ApiOutput):
    status: str
    checks: dict[str, str] = {}


class ErrorBody(ApiOutput):
    error: str = Field(description="Stable machine-readable code.")
    message: str
    details: Any = None


def normalizer(choices: tuple[str, ...]):
    """Map any spelling of one of `choices` ('openrouter', 'get', 'drgero') to its canonical form."""
    canon = {_squash(c): c for c in choices}

    def pick(value: Any) -> Any:
        return canon.get(_squash(value), value) if isinstance(value, str) else value

    return pick


def _squash(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


class JsonObjectBody(RootModel[dict[str, Any]]):
    """Any JSON object; the handler validates it further (task payloads, pushed rows)."""
