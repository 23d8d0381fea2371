"""OpenAPI 3.1, generated from the route tables and the pydantic models."""

from __future__ import annotations

from functools import cache
from typing import Any

import yaml
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from shared.http.routes import Family, Route
from shared.schemas.common import ErrorBody

REF = "#/components/schemas/{model}"
SECURITY = {
    "api_token": [{"apiToken": []}],
    "push": [{"apiToken": []}, {"pushToken": []}],
    "session": [{"session": []}],
    "user": [{"session": []}],
    "cron": [{"cronSecret": []}],
    "task": [{"taskSignature": []}],
    "none": [],
}
SECURITY_SCHEMES = {
    "apiToken": {"type": "http", "scheme": "bearer", "description": "Dr.Gero API token (drgero_...)."},
    "pushToken": {"type": "apiKey", "in": "header", "name": "X-Dr.Gero-Push-Token",
                  "description": "Push-only token (hpd_...) for one leaderboard."},
    "session": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                "description": "Supabase user session (access token); X-Drgero-Workspace picks the workspace "
                               "when the user belongs to several."},
    "cronSecret": {"type": "http", "scheme": "bearer", "description": "The deployment's cron secret."},
    "taskSignature": {"type": "apiKey", "in": "header", "name": "X-DrGero-Task-Signature",
                      "description": "HMAC of the task, added by the queue (plus Cloud Run IAM in production)."},
}
ERROR_TEXT = {
    400: "Malformed JSON", 402: "The leaderboard's monthly budget is spent", 401: "Missing or invalid credentials", 403: "Missing scope or entitlement",
    404: "Unknown id (or one of another workspace)", 405: "Method not allowed", 409: "Conflict",
    413: "Body too large", 415: "Body is not JSON", 422: "Validation failed",
    502: "An upstream provider failed (for inference, every candidate; the body names the trace)", 503: "Backend unavailable",
}


UUID = {"type": "string", "format": "uuid"}
# Path parameters that are names rather than ids.
PATH_PARAMETERS = {
    "provider": {"type": "string", "enum": ["openrouter", "huggingface"]},
    "kind": {"type": "string", "pattern": "^[a-z_]{1,64}$", "description": "The task kind the queue named."},
    "dataset_item_id": {"type": "string", "minLength": 1, "maxLength": 200,
                        "description": "The row's id as pushed, or the one consolidation gave it ({batch id}-{index})."},
}


def error_statuses(route: Route) -> list[int]:
    statuses = set(route.errors)
    if route.auth != "none":
        statuses |= {401, 503}  # 503: the document store is unreachable (or, for sessions, the JWKS)
    if route.scopes or route.auth == "push":
        statuses |= {403}
    if set(route.path_params) - set(PATH_PARAMETERS):  # an id that may not exist
        statuses |= {404}
    if route.query is not None or route.auth == "session":
        statuses |= {422}  # a session of several workspaces must name one
    if route.body is not None:
        statuses |= {400, 413, 415, 422}
    return sorted(statuses)


def _operation(route: Route, family: str, refs: dict[Any, Any], operation_id: str) -> dict[str, Any]:
    op: dict[str, Any] = {
        "operationId": operation_id,
        "summary": route.summary, "tags": [family], "security": SECURITY[route.auth],
        "responses": {},
    }
    if route.scopes:
        op["description"] = f"Requires the scope(s): {', '.join(route.scopes)}."
    params = [{"name": n, "in": "path", "required": True, "schema": PATH_PARAMETERS.get(n, UUID)}
              for n in route.path_params]
    if route.query is not None:
        for name, field in route.query.model_fields.items():
            params.append({"name": name, "in": "query", "required": field.is_required(),
                           "schema": _query_param_schema(route.query, name)})
    if params:
        op["parameters"] = params
    if route.body is not None:
        op["requestBody"] = {"required": route.body_required, "content": {
            "application/json": {"schema": refs[(route.body, "validation")]}}}
    ok: dict[str, Any] = {"description": "OK"}
    if route.response is not None:
        ok["content"] = {route.media_type: {"schema": refs[(route.response, "serialization")]}}
    elif route.media_type != "application/json":
        ok["content"] = {route.media_type: {}}  # a document or a stream, not one JSON value
    for media_type in route.alt_media_types:
        ok.setdefault("content", {})[media_type] = {}
    op["responses"][str(route.status)] = ok
    bodies = dict(route.error_bodies)
    for status in error_statuses(route):
        op["responses"][str(status)] = {"description": ERROR_TEXT.get(status, "Error"), "content": {
            "application/json": {"schema": refs[(bodies.get(status, ErrorBody), "serialization")]}}}
    return op


def _query_param_schema(model: type[BaseModel], name: str) -> dict[str, Any]:
    return model.model_json_schema()["properties"][name]


@cache
def _document(families: tuple[Family, ...], common: tuple[Route, ...]) -> str:
    tagged = [(f.name, r) for f in families for r in f.routes]
    tagged += [("health", r) for r in common]
    models = {(m, "validation") for _, r in tagged for m in (r.body,) if m is not None}
    models |= {(m, "serialization") for _, r in tagged for m in (r.response,) if m is not None}
    models.add((ErrorBody, "serialization"))
    models |= {(m, "serialization") for _, r in tagged for _, m in r.error_bodies}
    refs, schema = models_json_schema(sorted(models, key=lambda k: (k[0].__name__, k[1])), ref_template=REF, by_alias=False)
    paths: dict[str, dict[str, Any]] = {}
    used: set[str] = set()
    for family, route in tagged:
        # Aliases share a handler; their operation ids still have to be unique.
        operation_id = route.handler.__name__
        if operation_id in used:
            operation_id = f"{operation_id}_{family}"
        used.add(operation_id)
        paths.setdefault(route.path, {})[route.method.lower()] = _operation(route, family, refs, operation_id)
    document = {
        "openapi": "3.1.0",
        "info": {"title": "Dr.Gero API", "version": "1.0.0",
                 "description": "Request bodies accept snake_case names and their camelCase aliases."},
        "tags": [{"name": f.name, "description": f.description} for f in families],
        "paths": paths,
        "components": {"schemas": schema.get("$defs", {}), "securitySchemes": SECURITY_SCHEMES},
    }
    return yaml.dump(document, Dumper=_PlainDumper, sort_keys=False, allow_unicode=True)


class _PlainDumper(yaml.SafeDumper):
    """Writes shared objects out in full instead of as YAML anchors, for simpler readers."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def openapi_yaml(families: list[Family], common: list[Route]) -> str:
    """The OpenAPI document for these families and the routes every function serves, as YAML."""
    return _document(tuple(families), tuple(common))
