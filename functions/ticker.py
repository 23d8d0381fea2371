"""The embedded server's stand-in for Cloud Scheduler: runs the operator jobs periodically."""

from __future__ import annotations

import asyncio
import logging

from functions.operator_api import JOBS
from shared.ports import Deps

log = logging.getLogger(__name__)


async def run_jobs_once(deps: Deps) -> None:
    """Every operator job once, in order, with the services their cron routes run."""
    for job in JOBS:
        try:
            await job.run(deps)
        except Exception:  # noqa: BLE001 - one failing job must not stop the ticker
            log.exception("scheduled job %s failed", job.name)


async def stop_idle_local_models(deps: Deps) -> None:
    """Local model servers nobody called for `local_model_idle_minutes` give their memory back."""
    idle_minutes = deps.settings.local_model_idle_minutes
    if deps.local_models is not None and idle_minutes > 0:
        stopped = await deps.local_models.stop_idle(idle_minutes * 60)
        if stopped:
            log.info("stopped %d idle local model server(s)", stopped)


async def tick_forever(deps: Deps, every_seconds: float) -> None:
    while True:
        await asyncio.sleep(every_seconds)
        await run_jobs_once(deps)
        await stop_idle_local_models(deps)
