"""Operator family: the cron jobs, each a route that Cloud Scheduler calls with the deployment's cron secret.

JOBS is the one declaration of them: it gives this family its routes, `infra/deploy.py` its
Scheduler jobs, the embedded server's ticker and the local topology's scheduler stand-in
what to call.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from shared.http.routes import Call, Family, Route
from shared.ports import Deps
from shared.schemas.leaderboards import ResumedPurges
from shared.schemas.push import DueConsolidations
from shared.schemas.runs import ReapedRuns
from shared.schemas.schedules import DueRuns
from shared.services import leaderboard_purge, push_datasets, run_reaper, schedules


@dataclass(frozen=True)
class Job:
    """A periodic job: its route, how often Cloud Scheduler calls it, and the service it runs."""

    name: str
    path: str
    cron: str
    run: Callable[[Deps], Awaitable[list[Any]]]
    key: str  # the answer is {key: what `run` returned}
    summary: str
    response: type[BaseModel]

    def route(self) -> Route:
        async def handler(call: Call[None]) -> dict[str, Any]:
            return {self.key: await self.run(call.deps)}

        handler.__name__ = self.name.replace("-", "_")  # the OpenAPI operationId
        return Route("POST", self.path, handler, self.summary, auth="cron", response=self.response)


JOBS: list[Job] = [
    Job("consolidate-due", "/api/push-datasets/consolidate-due", "*/10 * * * *", push_datasets.consolidate_due,
        "consolidated", "Consolidate every push dataset whose pending rows reached their event or age threshold",
        DueConsolidations),
    Job("reap-stale-runs", "/api/leaderboard-runs/reap-stale", "*/5 * * * *", run_reaper.reap_stale_runs,
        "reaped", "Finish runs that stopped making progress and queue again the ones whose start was never queued",
        ReapedRuns),
    Job("run-due", "/api/leaderboard-schedules/run-due", "*/5 * * * *", schedules.run_due,
        "started", "Start every scheduled run that is due (each due slot exactly once)", DueRuns),
    Job("purge-deleted", "/api/leaderboard-purges/resume-stalled", "*/5 * * * *",
        leaderboard_purge.resume_stalled_purges, "purges",
        "Queue again the purge of every deleted leaderboard whose purge stalled (never queued, or out of retries)",
        ResumedPurges),
]

ROUTES: list[Route] = [job.route() for job in JOBS]

FAMILY = Family("operator_api", "Operator APIs called by Cloud Scheduler; cron secret.", ROUTES)
