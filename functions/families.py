"""Every endpoint family, in the order the embedded server matches them."""

from __future__ import annotations

from functions import operator_api, resource_api, runtime_api, session_api, task_worker

FAMILIES = [
    runtime_api.FAMILY,
    session_api.FAMILY,
    operator_api.FAMILY,
    resource_api.FAMILY,
    task_worker.FAMILY,
]
