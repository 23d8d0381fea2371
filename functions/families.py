"""Every endpoint family, in the order the embedded server matches them, and each one's deployed entry point."""

from __future__ import annotations

from functions import operator_api, resource_api, runtime_api, session_api, task_worker
from shared.http.family import entrypoint

FAMILIES = [
    runtime_api.FAMILY,
    session_api.FAMILY,
    operator_api.FAMILY,
    resource_api.FAMILY,
    task_worker.FAMILY,
]

# The functions-framework function of each family, by family name (what deploy gives as --entry-point).
ENTRYPOINTS = {family.name: entrypoint(family, FAMILIES) for family in FAMILIES}
