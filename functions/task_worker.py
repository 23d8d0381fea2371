"""Task worker family: Cloud Tasks delivers each queued task here as POST /tasks/{kind}.

A 2xx tells Cloud Tasks the task is done; anything else makes it retry with backoff. A
task that can never succeed (PermanentTaskError) answers 200 with status "dropped" so it
is not retried forever. The in-process queue of the embedded default calls the same
runner directly.
"""

from __future__ import annotations

import logging
from typing import Any

from shared.http.routes import Call, Family, Route
from shared.ports import PermanentTaskError
from shared.schemas.common import JsonObjectBody
from shared.services.tasks import runner

log = logging.getLogger(__name__)


async def run_task(call: Call[JsonObjectBody]) -> dict[str, Any]:
    kind = call.path["kind"]
    try:
        await runner(call.deps)(kind, call.body.root)
    except PermanentTaskError as exc:
        log.warning("dropping task %s: %s", kind, exc)
        return {"status": "dropped", "reason": str(exc)}
    return {"status": "done"}


ROUTES: list[Route] = [
    Route("POST", "/tasks/{kind}", run_task, "Run one queued task (called by Cloud Tasks)", auth="task",
          body=JsonObjectBody),
]

FAMILY = Family("task_worker", "Task worker: runs queued tasks; signed by the queue.", ROUTES)
