"""Operator APIs called by Cloud Scheduler family."""

from __future__ import annotations

from shared.http.family import Family, entrypoint
from shared.http.routes import Route

ROUTES: list[Route] = []

FAMILY = Family("operator_api", "Operator APIs called by Cloud Scheduler; cron secret.", ROUTES)
operator_api = entrypoint(FAMILY)
