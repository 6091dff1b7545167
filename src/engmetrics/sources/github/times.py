"""GitHub's times: ISO 8601 (``2025-01-02T03:04:05Z``) to Unix seconds."""

from __future__ import annotations

from datetime import datetime

fromisoformat = datetime.fromisoformat
"""`datetime.fromisoformat` (C, accepts ``Z`` since Python 3.11): the fastest exact parse, ~1 µs."""


def unix_seconds(value: str | None) -> int | None:
    """GitHub's ISO 8601 time as Unix seconds (None for null or empty)."""
    if not value:
        return None
    return int(fromisoformat(value).timestamp())
