"""Request -> route -> auth -> validated parts -> handler -> JSON, with every error mapped.

The same Dispatcher serves one family in its Cloud Run function and all families in
the embedded server, so both deployments run exactly the same handlers.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import Response

from shared.errors import InvalidInput
from shared.http.authenticate import authenticate
from shared.http.bodies import parse_json, read_limited
from shared.http.errors import HttpError, error_response, response_for
from shared.http.routes import TEXT_IDS, Answer, Call, Route

log = logging.getLogger(__name__)

DepsProvider = Callable[[], Awaitable[Any]]
JSON = "application/json"


def validation_details(exc: ValidationError) -> list[dict[str, str]]:
    """Pydantic's errors as `{field, message}` with dotted field paths."""
    return [
        {"field": ".".join(str(part) for part in err["loc"]) or "body", "message": err["msg"]}
        for err in exc.errors(include_url=False)
    ]


class Dispatcher:
    """An ASGI-agnostic handler: takes a Starlette Request, returns a Response."""

    def __init__(self, routes: list[Route], deps: DepsProvider) -> None:
        self.routes = routes
        self._deps = deps

    async def __call__(self, request: Request) -> Response:
        try:
            return await self._dispatch(request)
        except Exception as exc:  # noqa: BLE001 - every failure becomes a JSON error
            known = response_for(exc)
            if known is not None:
                return known
            log.exception("unhandled error on %s %s", request.method, request.url.path)
            return error_response(500, "internal_error", "Something went wrong on our side.")

    def _match(self, request: Request) -> tuple[Route, dict[str, str]]:
        # The path as sent (decoded), not request.url.path: building that URL strips newlines
        # and tabs, so `.../models%0a` would pass for `.../models`.
        path = request.scope["path"].rstrip("/") or "/"
        allowed = []
        for route in self.routes:
            params = route.match(path)
            if params is None:
                continue
            if route.method == request.method or (request.method == "HEAD" and route.method == "GET"):
                return route, params
            allowed.append(route.method)
        if allowed:
            raise HttpError(405, "method_not_allowed", f"{request.method} is not allowed here.",
                            {"Allow": ", ".join(sorted(set(allowed)))})
        raise HttpError(404, "not_found", f"No endpoint at {path}.")

    async def _dispatch(self, request: Request) -> Response:
        route, params = self._match(request)
        if route.on_error is None:
            return await self._answer(route, params, request)
        try:
            return await self._answer(route, params, request)
        except Exception as exc:  # noqa: BLE001 - the route renders its own errors (the console's pages)
            return await route.on_error(request, exc)

    async def _answer(self, route: Route, params: dict[str, str], request: Request) -> Response:
        _check_ids(params)
        deps = await self._deps()
        principal = await authenticate(route, request, deps, params)
        query = _parse_query(route, request)
        limit = min(route.max_body_bytes or deps.settings.max_body_bytes, deps.settings.max_body_bytes)
        body = await _parse_body(route, request, limit)
        call = Call(deps=deps, principal=principal, path=params, query=query, body=body, request=request)
        result = await route.handler(call)
        if isinstance(result, Response):  # a stream, a file, or an error in a shape of its own
            return result
        if isinstance(result, Answer):
            return Response(public(route, result.body), route.status, result.headers, media_type=JSON)
        return Response(public(route, result), route.status, media_type=JSON)


def public(route: Route, result: Any) -> bytes:
    """The answer as JSON, as its route's response schema has it: declared fields only, read from dicts or objects.

    This is the one gate between services and clients: what a schema does not declare
    cannot leave (sealed tokens, internal bookkeeping), and a route without a schema
    answers only what is already plain JSON.
    """
    if route.response is not None:
        result = route.response.model_validate(result, from_attributes=True)
    if isinstance(result, BaseModel):
        # Fields a service left out of a dict stay out (a push without rejections has no
        # `rejections`); an aggregate read through the schema sets every field it declares.
        return result.model_dump_json(exclude_unset=True).encode()
    return json.dumps(result, ensure_ascii=False, separators=(",", ":")).encode()


def _check_ids(params: dict[str, str]) -> None:
    # Ids are UUIDs; anything else cannot name a resource, so it is simply not found.
    for name, value in params.items():
        if name.endswith("_id") and name not in TEXT_IDS:
            try:
                uuid.UUID(value)
            except ValueError:
                raise HttpError(404, "not_found", f"No resource with {name} {value!r}.") from None


def _parse_query(route: Route, request: Request) -> Any:
    if route.query is None:
        return None
    try:
        return route.query.model_validate(dict(request.query_params))
    except ValidationError as exc:
        raise InvalidInput("Invalid query parameters.", details=validation_details(exc)) from None


async def _parse_body(route: Route, request: Request, limit: int) -> Any:
    if route.body is None:
        return None
    raw = await read_limited(request, limit)
    if not raw.strip():
        if route.body_required:
            raise InvalidInput("A JSON body is required.", details=[{"field": "body", "message": "required"}])
        data: Any = {}
    else:
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type and content_type != "application/json" and not content_type.endswith("+json"):
            raise HttpError(415, "unsupported_media_type", "Send the body as application/json.")
        data = parse_json(raw)
    try:
        return route.body.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput("The body does not match the schema.", details=validation_details(exc)) from None
