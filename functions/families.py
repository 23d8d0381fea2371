"""Every endpoint family, in the order the embedded server matches them, and each one's deployed entry point."""

from __future__ import annotations

from functions import console_api, operator_api, resource_api, runtime_api, session_api, task_worker
from shared.bootstrap import build
from shared.config import Settings
from shared.http.family import entrypoint
from shared.http.routes import Family
from shared.ports import Deps

FAMILIES = [
    runtime_api.FAMILY,
    session_api.FAMILY,
    operator_api.FAMILY,
    resource_api.FAMILY,
    task_worker.FAMILY,
]
# Every deployed function: the API families (what /openapi.yaml describes) and the console's
# web pages, matched last in the embedded server.
DEPLOYED = [*FAMILIES, console_api.FAMILY]

def process_deps(family: Family):
    """The Deps of a process serving `family`, built from the environment on first use (not at import)."""
    built: list[Deps] = []

    async def provide() -> Deps:
        if not built:
            built.append(build(Settings(), cached_reads=family.cached_reads))
        return built[0]

    return provide


# The functions-framework function of each family, by family name (what deploy gives as --entry-point).
ENTRYPOINTS = {family.name: entrypoint(family, FAMILIES, process_deps(family)) for family in DEPLOYED}
