"""Every SQL statement of the Copilot source: day totals and seats, written idempotently."""

from __future__ import annotations

from datetime import UTC, datetime

from engmetrics.sources.copilot.reports import CopilotDay
from engmetrics.store.connection import Connection

_COLUMNS = (
    "day_start", "daily_active_users", "weekly_active_users", "monthly_active_users", "code_generation_activity_count",
    "code_acceptance_activity_count", "loc_suggested_to_add_sum", "loc_added_sum", "loc_deleted_sum",
)


def upsert_day(conn: Connection, scope: str, d: CopilotDay) -> bool:
    """Store one day's totals for ``scope`` ('org:<name>' or 'enterprise:<slug>'); whether anything changed."""
    start = int(datetime(d.day.year, d.day.month, d.day.day, tzinfo=UTC).timestamp())
    values = (start, d.daily_active_users, d.weekly_active_users, d.monthly_active_users,
              d.code_generation_activity_count, d.code_acceptance_activity_count, d.loc_suggested_to_add_sum,
              d.loc_added_sum, d.loc_deleted_sum)
    old = conn.execute(f"SELECT {', '.join(_COLUMNS)} FROM copilot_days WHERE scope = ? AND day = ?",
                       (scope, d.day.isoformat())).fetchone()
    if old is not None and tuple(old) == values:
        return False
    updates = ", ".join(f"{c} = excluded.{c}" for c in _COLUMNS)
    conn.execute(
        f"INSERT INTO copilot_days (scope, day, {', '.join(_COLUMNS)}) VALUES ({', '.join('?' * (len(_COLUMNS) + 2))})"
        f" ON CONFLICT (scope, day) DO UPDATE SET {updates}",
        (scope, d.day.isoformat(), *values),
    )
    return True


def write_seats(conn: Connection, scope: str, seats: int, now: int) -> None:
    """Record the Copilot seats assigned in ``scope`` (``now``: Unix seconds)."""
    conn.execute(
        "INSERT INTO copilot_seats (scope, seats, checked_at) VALUES (?, ?, ?)"
        " ON CONFLICT (scope) DO UPDATE SET seats = excluded.seats, checked_at = excluded.checked_at",
        (scope, seats, now),
    )
