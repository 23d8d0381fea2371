"""The embedded server's stand-in for Cloud Scheduler: runs the operator jobs periodically."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from shared.bootstrap import Deps
from shared.services import push_datasets, run_tasks, schedules

log = logging.getLogger(__name__)

# The same services the operator family's cron endpoints run.
JOBS: list[tuple[str, Callable[[Deps], Awaitable[object]]]] = [
    ("consolidate-due", push_datasets.consolidate_due),
    ("reap-stale-runs", run_tasks.reap_stale_runs),
    ("run-due", schedules.run_due),
]


async def run_jobs_once(deps: Deps) -> None:
    for name, job in JOBS:
        try:
            await job(deps)
        except Exception:  # noqa: BLE001 - one failing job must not stop the ticker
            log.exception("scheduled job %s failed", name)


async def tick_forever(deps: Deps, every_seconds: float) -> None:
    while True:
        await asyncio.sleep(every_seconds)
        await run_jobs_once(deps)
