"""Time in the demo: Unix timestamps in seconds (UTC), day numbers since 1970-01-01, and ISO-8601 text."""

from __future__ import annotations

from datetime import UTC, date, datetime

HOUR = 3600  # seconds
DAY = 86400  # seconds
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


def iso(ts: int) -> str:
    """``ts`` (Unix seconds) as ``YYYY-MM-DDTHH:MM:SSZ``."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def day_date(day: int) -> date:
    """The UTC calendar date of day number ``day`` (days since 1970-01-01, i.e. ``ts // DAY``)."""
    return date.fromordinal(_EPOCH_ORDINAL + day)
