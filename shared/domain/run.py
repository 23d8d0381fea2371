"""The Run aggregate: one evaluation of a leaderboard's candidates, and the records its chunks leave."""

from __future__ import annotations

from typing import Any

from shared.domain.aggregate import Aggregate

TERMINAL = ("completed", "failed", "cancelled")


class Run(Aggregate):
    workspace_id: str
    leaderboard_id: str
    status: str = "queued"  # queued, running, awaiting_human, completed, failed, cancelled
    run_source: str = "api"
    trigger: str | None = None
    eval_type: str
    candidate_ids: list[str]
    candidates: list[dict[str, Any]]  # {id, name, platform} as they were when the run started
    # Set by prepare: what was read, how many rows, in how many chunks of how many rows.
    dataset: dict[str, Any] | None = None
    rows: int | None = None
    chunks: int | None = None
    chunk_rows: int | None = None
    created_at: str
    started_at: str | None = None
    finished_at: str | None = None
    error: str | None = None
    ranking: list[dict[str, Any]] | None = None
    winner_id: str | None = None
    improve: bool = False
    dataset_limit: dict[str, Any] | None = None

    @property
    def finished(self) -> bool:
        return self.status in TERMINAL

    @property
    def prepared(self) -> bool:
        return self.chunks is not None

    def fail(self, error: str, at: str) -> None:
        if not self.finished:
            self.status, self.error, self.finished_at = "failed", error, at

    def ranked(self, ranking: list[dict[str, Any]], winner: str | None, pending_human: bool, at: str) -> None:
        """Ranked: completed, or awaiting_human while people still have rows to score."""
        self.ranking, self.winner_id = ranking, winner
        self.status = "awaiting_human" if pending_human else "completed"
        self.finished_at = None if pending_human else at


class RunChunk(Aggregate):
    """A chunk of rows one candidate finished: written once, counted to notice the run is done."""

    run_id: str
    workspace_id: str
    candidate_id: str
    chunk: int
    items: int
    failed: int
    created_at: str


class Annotation(Aggregate):
    """One (candidate, row) of a human run waiting for, or holding, a person's score."""

    run_id: str
    workspace_id: str
    leaderboard_id: str
    candidate_id: str
    row_id: str
    input: str
    expected: str | None = None
    output: str | None = None
    status: str = "pending"  # pending or scored
    score: float | None = None
    comment: str | None = None
    created_at: str
    scored_at: str | None = None

    def scored(self, score: float, comment: str | None, at: str) -> None:
        self.status, self.score, self.comment, self.scored_at = "scored", score, comment, at


def chunk_id(run_id: str, candidate_id: str, chunk: int) -> str:
    return f"{run_id}.{candidate_id}.{chunk}"


