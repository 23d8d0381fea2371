"""Queued work: every task kind, its handler and the payload fields it reads, named in one table.

Both queues run tasks through `runner`: the in-process one directly, Cloud Tasks through the
task worker function. Whatever imports this module can run every kind. Handlers must be
idempotent: delivery is at-least-once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from shared.ports import Data, Deps, PermanentTaskError
from shared.services import leaderboard_purge, online_eval, push_datasets, run_tasks, runs


@dataclass(frozen=True)
class TaskKind:
    handler: Callable[[Deps, Data], Awaitable[None]]
    payload: dict[str, type]  # the fields the handler reads, with their types


KINDS: dict[str, TaskKind] = {
    runs.PREPARE_TASK: TaskKind(run_tasks.prepare, {"run_id": str}),
    runs.CHUNK_TASK: TaskKind(run_tasks.run_chunk, {"run_id": str, "candidate_id": str, "chunk": int}),
    runs.FINALIZE_TASK: TaskKind(run_tasks.finalize, {"run_id": str}),
    push_datasets.CONSOLIDATE_TASK: TaskKind(push_datasets.consolidate_task, {"leaderboard_id": str}),
    leaderboard_purge.PURGE_TASK: TaskKind(leaderboard_purge.purge_pass, {"leaderboard_id": str, "step": int}),
    online_eval.SCORE_TASK: TaskKind(online_eval.score_task, {"trace_id": str}),
}


def runner(deps: Deps) -> Callable[[str, Data], Awaitable[None]]:
    """The TaskHandler both queues call: looks the kind up and runs it with these deps."""

    async def run(kind: str, payload: Data) -> None:
        task = KINDS.get(kind)
        if task is None:
            raise PermanentTaskError(f"no handler for task kind {kind!r}")
        wrong = [name for name, expected in task.payload.items()
                 if not isinstance(payload.get(name), expected) or isinstance(payload.get(name), bool)]
        if wrong:  # no retry can fix a payload this deployment never queued
            raise PermanentTaskError(f"task {kind!r} needs {', '.join(wrong)} in its payload")
        await task.handler(deps, payload)

    return run
