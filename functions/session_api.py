"""Session APIs: tokens, invites, integrations, auto-select family."""

from __future__ import annotations

from shared.http.family import Family, entrypoint
from shared.http.routes import Route

ROUTES: list[Route] = []

FAMILY = Family("session_api", "Session APIs: tokens, invites, integrations, auto-select; user session.", ROUTES)
session_api = entrypoint(FAMILY)
