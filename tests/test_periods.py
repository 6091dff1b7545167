"""Windows: named periods, relative and explicit from/to, and the errors for nonsense."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from engmetrics.errors import InvalidInput
from engmetrics.periods import NAMED_PERIODS, iso, named_window, parse_instant, resolve_window

NOW = datetime(2025, 2, 19, 15, 30, tzinfo=UTC)  # a Wednesday


@pytest.mark.parametrize(
    ("period", "start", "end"),
    [
        ("last_7_days", "2025-02-12T15:30:00Z", "2025-02-19T15:30:00Z"),
        ("30d", "2025-01-20T15:30:00Z", "2025-02-19T15:30:00Z"),
        ("last_90_days", "2024-11-21T15:30:00Z", "2025-02-19T15:30:00Z"),
        ("this_week", "2025-02-17T00:00:00Z", "2025-02-19T15:30:00Z"),
        ("last_week", "2025-02-10T00:00:00Z", "2025-02-17T00:00:00Z"),
        ("this_month", "2025-02-01T00:00:00Z", "2025-02-19T15:30:00Z"),
        ("last_month", "2025-01-01T00:00:00Z", "2025-02-01T00:00:00Z"),
        ("this_quarter", "2025-01-01T00:00:00Z", "2025-02-19T15:30:00Z"),
        ("last_quarter", "2024-10-01T00:00:00Z", "2025-01-01T00:00:00Z"),
        ("ytd", "2025-01-01T00:00:00Z", "2025-02-19T15:30:00Z"),
        ("2w", "2025-02-05T15:30:00Z", "2025-02-19T15:30:00Z"),
    ],
)
def test_named_windows(period: str, start: str, end: str) -> None:
    w = named_window(period, NOW)
    assert (iso(w.start_ts), iso(w.end_ts)) == (start, end)


def test_every_advertised_period_resolves() -> None:
    for p in NAMED_PERIODS:
        assert named_window(p, NOW).start < NOW


def test_explicit_dates_are_inclusive_of_the_to_day() -> None:
    w = resolve_window(from_="2025-02-01", to="2025-02-15", now=NOW)
    assert iso(w.start_ts) == "2025-02-01T00:00:00Z"
    assert iso(w.end_ts) == "2025-02-16T00:00:00Z"
    assert w.days == 15


def test_relative_and_now_as_in_the_cursor_seed() -> None:
    w = resolve_window(from_="7d", to="now", now=NOW)
    assert iso(w.start_ts) == "2025-02-12T15:30:00Z" and iso(w.end_ts) == "2025-02-19T15:30:00Z"


def test_times_with_offsets_become_utc() -> None:
    assert parse_instant("2025-02-01T10:00:00+02:00") == datetime(2025, 2, 1, 8, tzinfo=UTC)
    assert parse_instant("2025-02-01T10:00:00Z") == datetime(2025, 2, 1, 10, tzinfo=UTC)


def test_previous_window_has_equal_length() -> None:
    w = named_window("last_30_days", NOW)
    p = w.previous()
    assert p.end == w.start and (p.end - p.start) == (w.end - w.start)


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"period": "fortnight"}, "Accepted periods"),
        ({"period": "0d"}, "at least one day"),
        ({"from_": "yesterday-ish"}, "not an ISO date"),
        ({"from_": "2025-02-30"}, "not a valid date"),
        ({"from_": "2025-02-10", "to": "2025-02-01"}, "from='2025-02-10' is not before to='2025-02-01'"),
        ({"period": "7d", "from_": "2025-01-01"}, "not both"),
    ],
)
def test_nonsense_is_rejected_with_what_is_accepted(kwargs: dict, needle: str) -> None:
    with pytest.raises(InvalidInput) as exc:
        resolve_window(now=NOW, **kwargs)
    assert needle in exc.value.message
