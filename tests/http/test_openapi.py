"""/openapi.yaml is generated from the route tables: valid OpenAPI 3.1 covering every route."""

from __future__ import annotations

import yaml
from openapi_spec_validator import validate

from functions.families import FAMILIES


async def _document(client) -> dict:
    response = await client.get("/openapi.yaml")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/yaml")
    return yaml.safe_load(response.text)


async def test_the_document_is_valid_openapi_3_1(client):
    document = await _document(client)
    assert document["openapi"] == "3.1.0"
    validate(document)


async def test_every_route_of_every_family_is_documented_once(client):
    document = await _document(client)
    documented = {(method.upper(), path) for path, item in document["paths"].items() for method in item}
    declared = {(route.method, route.path) for family in FAMILIES for route in family.routes}
    assert declared <= documented
    assert {("GET", "/healthz"), ("GET", "/readyz"), ("GET", "/openapi.yaml")} <= documented
    operation_ids = [op["operationId"] for item in document["paths"].values() for op in item.values()]
    assert len(operation_ids) == len(set(operation_ids))


async def test_operations_document_their_scopes_and_error_statuses(client):
    document = await _document(client)
    create = document["paths"]["/api/leaderboards"]["post"]
    assert "leaderboards:write" in create["description"]
    assert {"201", "400", "401", "403", "413", "415", "422"} <= set(create["responses"])
    detail = document["paths"]["/api/leaderboards/{leaderboard_id}"]["get"]
    assert "404" in detail["responses"]
    error = document["components"]["schemas"]["ErrorBody"]
    assert {"error", "message"} <= set(error["required"])
