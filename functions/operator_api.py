"""Operator family: cron endpoints that Cloud Scheduler calls with the deployment's cron secret."""

from __future__ import annotations

from typing import Any

from shared.http.family import Family, entrypoint
from shared.http.routes import Call, Route
from shared.schemas.push import DueConsolidations
from shared.schemas.schedules import DueRuns
from shared.services import push_datasets, schedules


async def consolidate_due(call: Call[None]) -> dict[str, Any]:
    return {"consolidated": await push_datasets.consolidate_due(call.deps)}


async def run_due(call: Call[None]) -> dict[str, Any]:
    return {"started": await schedules.run_due(call.deps)}


ROUTES: list[Route] = [
    Route("POST", "/api/leaderboard-schedules/run-due", run_due,
          "Start every scheduled run that is due (each due slot exactly once)", auth="cron", response=DueRuns),
    Route("POST", "/api/push-datasets/consolidate-due", consolidate_due,
          "Consolidate every push dataset whose pending rows reached their event or age threshold",
          auth="cron", response=DueConsolidations),
]

FAMILY = Family("operator_api", "Operator APIs called by Cloud Scheduler; cron secret.", ROUTES)
operator_api = entrypoint(FAMILY)
