"""Times as every document stores them: ISO-8601 UTC text of fixed width, so it sorts as it reads."""

from __future__ import annotations

from datetime import UTC, datetime


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def parse_iso(stamp: str) -> datetime:
    """The moment a stored ISO-8601 UTC string names."""
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def as_stored(stamp: str) -> str:
    """Any ISO-8601 time a caller sends (without an offset, UTC) in the stored form, so a bound
    compares with stored times as text. ValueError if it is not a time."""
    moment = parse_iso(stamp)
    return iso(moment if moment.tzinfo else moment.replace(tzinfo=UTC))
