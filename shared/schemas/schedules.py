"""The schedule document stored on a leaderboard (version 2, as the seed shows it).

Cron expressions are standard five-field crons parsed by `cronsim`, evaluated in UTC
unless `timezone` names an IANA zone. Presets stand for: HOURLY `0 * * * *`, DAILY
`0 6 * * *`, WEEKLY `0 6 * * 1`, MONTHLY `0 6 1 * *`; CUSTOM uses `expression`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cronsim import CronSim, CronSimError
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

from shared.schemas.common import ApiOutput, normalizer

_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)  # any instant: parsing is what is checked
PRESETS = {"HOURLY": "0 * * * *", "DAILY": "0 6 * * *", "WEEKLY": "0 6 * * 1", "MONTHLY": "0 6 1 * *"}
Cadence = Annotated[Literal["DAILY", "WEEKLY", "MONTHLY"], BeforeValidator(normalizer(("DAILY", "WEEKLY", "MONTHLY")))]
Preset = Annotated[Literal["HOURLY", "DAILY", "WEEKLY", "MONTHLY", "CUSTOM"],
                   BeforeValidator(normalizer(("HOURLY", "DAILY", "WEEKLY", "MONTHLY", "CUSTOM")))]


class _Strict(BaseModel):
    # Keys in snake_case or camelCase, like every request body; the schedule is stored as
    # dumped by field name, so it keeps one spelling whichever the client sent.
    model_config = ConfigDict(extra="forbid", alias_generator=to_camel, populate_by_name=True)


class ModelVersionTrigger(_Strict):
    enabled: bool = False
    cadence: Cadence = "WEEKLY"


class NewDataTrigger(_Strict):
    enabled: bool = False
    check_cadence: Cadence = "DAILY"
    every_new_events: int = Field(500, ge=1, le=10_000_000)


class CronTrigger(_Strict):
    enabled: bool = False
    preset: Preset = "DAILY"
    expression: str | None = Field(None, max_length=200)
    timezone: str | None = Field(None, max_length=64)

    @model_validator(mode="after")
    def _valid(self) -> CronTrigger:
        if self.preset == "CUSTOM" and not self.expression:
            raise ValueError("a CUSTOM cron needs an expression")
        if self.timezone:
            try:
                ZoneInfo(self.timezone)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"unknown timezone {self.timezone!r}") from None
        expression = self.effective_expression
        if len(expression.split()) != 5:
            raise ValueError("cron expressions have five fields: minute hour day-of-month month day-of-week")
        try:
            CronSim(expression, _EPOCH)
        except CronSimError as exc:
            raise ValueError(f"invalid cron expression {expression!r}: {exc}") from None
        return self

    @property
    def effective_expression(self) -> str:
        return self.expression if self.preset == "CUSTOM" and self.expression else PRESETS.get(self.preset, "")


class QualityDropTrigger(_Strict):
    """Starts a run when the chosen model's live quality (online evaluation) falls below its last ranking score."""

    enabled: bool = False
    min_samples: int = Field(50, ge=1, le=1_000_000)
    drop: float = Field(0.1, gt=0, le=1)
    window_hours: int = Field(24, ge=1, le=168)


class Triggers(_Strict):
    model_version: ModelVersionTrigger = ModelVersionTrigger()
    new_data: NewDataTrigger = NewDataTrigger()
    cron: CronTrigger = CronTrigger()
    quality_drop: QualityDropTrigger = QualityDropTrigger()


class DatasetLimit(_Strict):
    auto: bool = False
    rows: int = Field(5000, ge=1, le=10_000_000)
    algorithm: Annotated[Literal["LAST_N", "RANDOM"], BeforeValidator(normalizer(("LAST_N", "RANDOM")))] = "LAST_N"
    seed: int | None = Field(None, ge=0, le=2**31 - 1)


class ScheduleDataset(_Strict):
    mode: Annotated[Literal["ALL", "LIMIT"], BeforeValidator(normalizer(("ALL", "LIMIT")))] = "ALL"
    limit: DatasetLimit = DatasetLimit()


class Schedule(_Strict):
    version: Literal[2]
    triggers: Triggers
    dataset: ScheduleDataset = ScheduleDataset()



class DueRun(ApiOutput):
    leaderboard_id: str
    trigger: str
    due_at: str
    run_id: str | None
    status: str = Field(description="started; skipped with a reason (e.g. no candidates); or deferred, when the "
                        "task queue was down and the next call tries again.")
    reason: str | None = None


class DueRuns(ApiOutput):
    started: list[DueRun]
