"""Task worker: runs queued model calls and jobs family."""

from __future__ import annotations

from shared.http.family import Family, entrypoint
from shared.http.routes import Route

ROUTES: list[Route] = []

FAMILY = Family("task_worker", "Task worker: runs queued model calls and jobs; Cloud Tasks OIDC.", ROUTES)
task_worker = entrypoint(FAMILY)
