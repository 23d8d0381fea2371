"""Times as every document stores them: ISO-8601 UTC text of fixed width, so it sorts as it reads."""

from __future__ import annotations

from datetime import UTC, datetime


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def parse_iso(stamp: str) -> datetime:
    """The moment a stored ISO-8601 UTC string names."""
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))
