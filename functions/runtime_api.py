"""Runtime v1: inference, traces and push datasets family."""

from __future__ import annotations

from shared.http.family import Family, entrypoint
from shared.http.routes import Route

ROUTES: list[Route] = []

FAMILY = Family("runtime_api", "Runtime v1: inference, traces and push datasets; API token or push token.", ROUTES)
runtime_api = entrypoint(FAMILY)
