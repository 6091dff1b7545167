"""GitHub Copilot usage metrics reports, as downloaded: organisation or enterprise day totals.

The REST endpoints (``…/copilot/metrics/reports/organization-28-day/latest``, ``…-1-day?day=``) answer
``download_links`` (signed URLs) and the days covered; the files hold JSON (an object, a list) or JSON lines, each
record either a report with ``day_totals`` (one record per day) or a day record itself (with ``day``). Per-user
records (``user_id``/``user_login``) are not totals and are skipped. Counts are whole numbers.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from engmetrics.errors import RemoteError


@dataclass(frozen=True, slots=True)
class CopilotDay:
    """One day of Copilot usage for a scope: active users (daily, trailing 7 and 28 days), generations and
    acceptances of suggestions, lines suggested, added and deleted."""

    day: date
    daily_active_users: int | None
    weekly_active_users: int | None
    monthly_active_users: int | None
    code_generation_activity_count: int
    code_acceptance_activity_count: int
    loc_suggested_to_add_sum: int
    loc_added_sum: int
    loc_deleted_sum: int


def _int(value: Any) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return int(value)
    try:
        return int(float(str(value)))
    except ValueError:
        return None


def _sum_features(rec: Mapping[str, Any], name: str) -> int:
    """A day's count: its own field, else the sum over ``totals_by_feature``."""
    own = _int(rec.get(name))
    if own is not None:
        return own
    parts = rec.get("totals_by_feature")
    if isinstance(parts, list):
        return sum(_int(p.get(name)) or 0 for p in parts if isinstance(p, dict))
    return 0


def day_of(rec: Mapping[str, Any]) -> CopilotDay | None:
    """The day totals of one day record (None when it is not one: no valid ``day``, or a per-user record)."""
    if "user_id" in rec or "user_login" in rec:
        return None
    try:
        day = date.fromisoformat(str(rec.get("day", ""))[:10])
    except ValueError:
        return None
    return CopilotDay(
        day=day,
        daily_active_users=_int(rec.get("daily_active_users")),
        weekly_active_users=_int(rec.get("weekly_active_users")),
        monthly_active_users=_int(rec.get("monthly_active_users")),
        code_generation_activity_count=_sum_features(rec, "code_generation_activity_count"),
        code_acceptance_activity_count=_sum_features(rec, "code_acceptance_activity_count"),
        loc_suggested_to_add_sum=_sum_features(rec, "loc_suggested_to_add_sum"),
        loc_added_sum=_sum_features(rec, "loc_added_sum"),
        loc_deleted_sum=_sum_features(rec, "loc_deleted_sum"),
    )


def _records(value: Any) -> Iterator[Mapping[str, Any]]:
    if isinstance(value, list):
        for v in value:
            yield from _records(v)
    elif isinstance(value, dict):
        totals = value.get("day_totals")
        if isinstance(totals, list):
            yield from (t for t in totals if isinstance(t, dict))
        else:
            yield value


def parse_report(text: str, source: str = "report") -> list[CopilotDay]:
    """Every day total in a downloaded report file (JSON or JSON lines), by day (a later record for a day wins)."""
    try:
        values: list[Any] = [json.loads(text)]
    except json.JSONDecodeError:
        values = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                values.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise RemoteError(f"GitHub's Copilot {source} is neither JSON nor JSON lines (line {number}: "
                                  f"{exc.msg}).") from None
    days: dict[date, CopilotDay] = {}
    for value in values:
        for rec in _records(value):
            got = day_of(rec)
            if got is not None:
                days[got.day] = got
    return [days[d] for d in sorted(days)]
