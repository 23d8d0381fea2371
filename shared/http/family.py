"""Endpoint families: a named route table, served as one Cloud Run function each."""

from __future__ import annotations

import asyncio
from typing import Any

import functions_framework.aio
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from shared.http.dispatch import DepsProvider, Dispatcher
from shared.http.openapi import openapi_yaml
from shared.http.routes import Call, Family, Route
from shared.schemas.common import Health


async def healthz(call: Call[None]) -> dict[str, str]:
    return {"status": "ok"}


READY_TIMEOUT_SECONDS = 3.0


async def _check(port: Any) -> str:
    """"ok", or why the backend cannot be used right now."""
    try:
        await asyncio.wait_for(port.ping(), READY_TIMEOUT_SECONDS)
    except TimeoutError:
        return f"unreachable: no answer within {READY_TIMEOUT_SECONDS:g} s"
    except Exception as exc:  # noqa: BLE001 - whatever a backend raises, the answer is "not ready"
        return f"unreachable: {exc}"[:300]
    return "ok"


async def readyz(call: Call[None]) -> Response:
    """Every backend a function may use, the task queue included, checked at once with a short timeout each."""
    ports = {"documents": call.deps.documents, "blobs": call.deps.blobs, "queue": call.deps.queue}
    results = await asyncio.gather(*(_check(port) for port in ports.values()))
    checks = dict(zip(ports, results))
    ready = all(value == "ok" for value in checks.values())
    body = {"status": "ready" if ready else "unavailable", "checks": checks}
    return JSONResponse(body, status_code=200 if ready else 503)


def common_routes(families: list[Family]) -> list[Route]:
    """Health, readiness and the OpenAPI document of the given families."""
    async def openapi(call: Call[None]) -> Response:
        return Response(api_document(families), media_type="application/yaml")

    return [
        Route("GET", "/healthz", healthz, "Liveness", auth="none", response=Health),
        Route("GET", "/readyz", readyz, "Readiness: 503 with a reason when a backend is unreachable",
              auth="none", response=Health, errors=(503,)),
        Route("GET", "/openapi.yaml", openapi, "This API's OpenAPI 3.1 document", auth="none",
              media_type="application/yaml"),
    ]


def api_document(families: list[Family]) -> str:
    """The OpenAPI document of these families and the common routes, as YAML."""
    return openapi_yaml(families, common_routes(families))


def dispatcher(families: list[Family], deps: DepsProvider, documented: list[Family] | None = None) -> Dispatcher:
    """Serves the families' routes and the common ones, /openapi.yaml describing `documented` (all served by default)."""
    routes = [route for family in families for route in family.routes]
    return Dispatcher(routes + common_routes(documented or families), deps)


def entrypoint(family: Family, every_family: list[Family], deps: DepsProvider):
    """The functions-framework (ASGI) HTTP function serving one family.

    Its /openapi.yaml is the whole API's: behind the load balancer that path reaches one
    function, and readers want every path, not that function's share.
    """
    handle = dispatcher([family], deps, documented=every_family)

    async def function(request: Request) -> Response:
        return await handle(request)

    function.__name__ = function.__qualname__ = family.name
    return functions_framework.aio.http(function)
