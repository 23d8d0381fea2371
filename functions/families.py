"""Every endpoint family, in the order the embedded server matches them, and each one's deployed entry point."""

from __future__ import annotations

from functions import operator_api, resource_api, runtime_api, session_api, task_worker
from shared.bootstrap import build
from shared.config import Settings
from shared.http.family import entrypoint
from shared.ports import Deps

FAMILIES = [
    runtime_api.FAMILY,
    session_api.FAMILY,
    operator_api.FAMILY,
    resource_api.FAMILY,
    task_worker.FAMILY,
]

_deps: Deps | None = None


async def process_deps() -> Deps:
    """This process's Deps, built from the environment on first use (not at import)."""
    global _deps
    if _deps is None:
        _deps = build(Settings())
    return _deps


# The functions-framework function of each family, by family name (what deploy gives as --entry-point).
ENTRYPOINTS = {family.name: entrypoint(family, FAMILIES, process_deps) for family in FAMILIES}
