"""Property tests through the HTTP API: arbitrary JSON never makes a 500, accepted pushes round-trip.

Each example gets a fresh PUSH leaderboard on one app, so examples cannot see each other.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from shared.domain.push_rows import EXPECTED_FIELDS, INPUT_FIELDS, METADATA_FIELDS, Rejection, normalize, rows_of
from shared.schemas.schedules import Schedule
from shared.services.schedules import due_times
from tests.factories import push_leaderboard

SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

scalars = st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=True) | st.text(max_size=30)
json_values = st.recursive(
    scalars, lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20)
row_like = st.dictionaries(
    st.sampled_from(INPUT_FIELDS + EXPECTED_FIELDS + METADATA_FIELDS + ("id", "metadata", "messages", "other")),
    json_values, max_size=6)
plain_row = st.fixed_dictionaries({"input": st.text(min_size=1, max_size=40)},
                                  optional={"expected": st.text(max_size=20), "id": st.text(max_size=10)})
bodies = st.one_of(json_values, row_like, plain_row,
                   st.fixed_dictionaries({"rows": st.lists(st.one_of(plain_row, row_like, json_values), max_size=12)},
                                         optional={"dedupe": st.booleans()}))


def _encodable(body) -> bytes | None:
    try:
        return json.dumps(body, allow_nan=True).encode()
    except (ValueError, OverflowError):
        return None


def _non_standard(raw: bytes) -> bool:
    """NaN and Infinity are what Python's json writes for such floats, and no JSON parser must accept."""
    return any(token in raw for token in (b"NaN", b"Infinity"))


@SETTINGS
@given(body=bodies)
async def test_any_pushed_json_is_answered_and_accepted_rows_land_exactly_once(client, auth, body):
    raw = _encodable(body)
    if raw is None:
        return
    board = (await client.post("/api/leaderboards", headers=auth, json=push_leaderboard())).json()["leaderboard"]["id"]
    pushed = await client.post(f"/v1/leaderboard/{board}/dataset/push", headers={**auth, "Content-Type": "application/json"},
                               content=raw)
    assert pushed.status_code in (202, 413, 422) or (pushed.status_code == 400 and _non_standard(raw)), pushed.text
    if pushed.status_code != 202:
        assert pushed.json()["error"] and pushed.json()["message"]
        return
    answer = pushed.json()
    rejected = {r["index"] for r in answer.get("rejections") or []}  # present only when some were rejected
    rows = rows_of(json.loads(raw))
    expected = Counter()
    for index, candidate in enumerate(rows):
        row = normalize(candidate, index, "now")
        if index not in rejected:
            assert not isinstance(row, Rejection)
            expected[(row["input"], row["expected"])] += 1
    assert answer["accepted_rows"] == sum(expected.values())
    consolidated = await client.post(f"/v1/leaderboard/{board}/dataset/consolidate", headers=auth)
    assert consolidated.status_code == 200
    download = await client.get(f"/v1/leaderboard/{board}/dataset", headers=auth)
    lines = [line for line in download.text.split("\n") if line]  # JSONL splits on \n alone, not on U+2028
    stored = Counter((r["input"], r["expected"]) for r in map(json.loads, lines))
    assert stored == expected  # every accepted row, once; nothing else


cron_fields = st.sampled_from(["*", "*/5", "0", "1-5", "MON", "1,15", "L", "99", "-1", "*/0", "a", "", "5/2", "#"])
expressions = st.one_of(st.lists(cron_fields, min_size=0, max_size=7).map(" ".join), st.text(max_size=30))
schedules = st.one_of(
    json_values,
    st.fixed_dictionaries({"version": st.sampled_from([2, 1, "2", None])}, optional={
        "triggers": st.fixed_dictionaries({}, optional={
            "cron": st.fixed_dictionaries({"enabled": st.booleans() | json_values}, optional={
                "preset": st.sampled_from(["HOURLY", "daily", "CUSTOM", "weekly ", "YEARLY"]) | json_values,
                "expression": expressions | json_values,
                "timezone": st.sampled_from(["Europe/Paris", "UTC", "Mars/Olympus", ""]) | json_values}),
            "new_data": st.fixed_dictionaries({"enabled": st.booleans()}, optional={
                "check_cadence": st.sampled_from(["DAILY", "HOURLY"]) | json_values,
                "every_new_events": st.integers(-5, 10**9) | json_values}),
            "model_version": st.fixed_dictionaries({"enabled": st.booleans()}, optional={
                "cadence": st.sampled_from(["WEEKLY", "monthly", "NEVER"])})}),
        "dataset": json_values}),
)


@settings(max_examples=300, deadline=None)
@given(schedule=schedules, after=st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1),
                                               timezones=st.just(UTC)))
def test_a_schedule_is_either_refused_or_always_due_in_the_future(schedule, after):
    try:
        Schedule.model_validate(schedule)
    except ValidationError:
        return
    for due in due_times(schedule, after).values():
        assert datetime.fromisoformat(due.replace("Z", "+00:00")) > after


@SETTINGS
@given(schedule=schedules)
async def test_any_schedule_body_is_answered_without_a_server_error(client, auth, schedule):
    raw = _encodable({"schedule": schedule})
    if raw is None:
        return
    board = (await client.post("/api/leaderboards", headers=auth, json=push_leaderboard())).json()["leaderboard"]["id"]
    answer = await client.patch(f"/api/leaderboards/{board}", headers={**auth, "Content-Type": "application/json"},
                                content=raw)
    assert answer.status_code in (200, 422) or (answer.status_code == 400 and _non_standard(raw)), answer.text
    if answer.status_code == 200:
        stored = answer.json()["leaderboard"]
        assert stored["schedule"] is None or Schedule.model_validate(stored["schedule"])
