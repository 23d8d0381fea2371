"""Cloud Run functions source root: each deployed function names one of these as its entry point."""

from functions.operator_api import operator_api
from functions.resource_api import resource_api
from functions.runtime_api import runtime_api
from functions.session_api import session_api
from functions.task_worker import task_worker

__all__ = ["operator_api", "resource_api", "runtime_api", "session_api", "task_worker"]
