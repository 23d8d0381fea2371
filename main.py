"""Cloud Run functions source root: each deployed function names one of these as its entry point."""

from functions.families import ENTRYPOINTS

console = ENTRYPOINTS["console"]
operator_api = ENTRYPOINTS["operator_api"]
resource_api = ENTRYPOINTS["resource_api"]
runtime_api = ENTRYPOINTS["runtime_api"]
session_api = ENTRYPOINTS["session_api"]
task_worker = ENTRYPOINTS["task_worker"]

__all__ = ["console", "operator_api", "resource_api", "runtime_api", "session_api", "task_worker"]
