"""The route table: one declaration per endpoint, read by the dispatcher and OpenAPI."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel
from starlette.requests import Request

from shared.auth.principal import Principal
from shared.ports import Deps

B = TypeVar("B")
# session: a browser session acting in one of its workspaces; user: the same session acting for
# the person themselves (their invites, leaving a workspace), which needs no workspace.
# console: the console's cookie session (a link, an API token or a browser session), with CSRF on writes.
Auth = Literal["none", "api_token", "push", "session", "user", "cron", "task", "console"]

_PARAM = re.compile(r"\{(\w+)\}")
# Path ids that are the caller's own text (a pushed row's id), not UUIDs the service made.
TEXT_IDS = frozenset({"dataset_item_id"})


@dataclass
class Call(Generic[B]):
    """What a handler gets: ports, the caller, and the validated request parts."""

    deps: Deps
    principal: Principal | None
    path: dict[str, str]
    query: Any
    body: B
    request: Request

    @property
    def workspace_id(self) -> str:
        assert self.principal is not None, "route declared without auth"
        return self.principal.workspace_id


@dataclass(frozen=True)
class Answer:
    """A success answer with headers of its own; its body still goes through the route's response schema."""

    body: Any
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[Call[Any]], Awaitable[Any]]


@dataclass(frozen=True)
class Route:
    """One endpoint: method, path template, auth, scopes, schemas and handler."""

    method: str
    path: str
    handler: Handler
    summary: str
    auth: Auth = "api_token"
    scopes: tuple[str, ...] = ()
    body: type[BaseModel] | None = None
    body_required: bool = True
    query: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    status: int = 200
    # Extra documented statuses beyond the ones the dispatcher derives (e.g. 409).
    errors: tuple[int, ...] = ()
    media_type: str = "application/json"
    # Error statuses whose body is not the common ErrorBody (OpenAI-shaped errors).
    error_bodies: tuple[tuple[int, type[BaseModel]], ...] = ()
    # Other content types the success response can have (a stream, JSONL), documented too.
    alt_media_types: tuple[str, ...] = ()
    # A tighter body cap than the service-wide one (e.g. what one stored document can hold).
    max_body_bytes: int | None = None
    # Renders any failure of this route itself (the console answers HTML pages, not JSON errors).
    on_error: Callable[[Request, Exception], Awaitable[Any]] | None = None
    pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        regex = _PARAM.sub(lambda m: f"(?P<{m.group(1)}>[^/]+)", re.escape(self.path).replace(r"\{", "{").replace(r"\}", "}"))
        object.__setattr__(self, "pattern", re.compile(regex))

    @property
    def path_params(self) -> list[str]:
        return _PARAM.findall(self.path)

    def match(self, path: str) -> dict[str, str] | None:
        # fullmatch, not `$`: `$` also matches before a trailing newline, so `.../models%0a` would pass.
        found = self.pattern.fullmatch(path)
        return found.groupdict() if found else None


@dataclass(frozen=True, eq=False)
class Family:
    """A named route table, served as one Cloud Run function.

    `cached_reads` names the collections the deployed function may answer from its instance's
    read cache (see shared.adapters.read_cache): the hot path's own reads, never what a reader
    of this family expects to see the moment another function changed it.
    """

    name: str
    description: str
    routes: list[Route]
    cached_reads: tuple[str, ...] = ()
