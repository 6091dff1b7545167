"""The forecast MCP tools (forecast_delivery, forecast_backlog) through a real MCP client session, on imported
work items whose weekly throughput is known by construction, so the answers can be checked by hand.

The store holds work items only (no repository, so ``item_source`` auto means work items), one team per history:

- ``steady``: 5 items a week for 60 weeks before START (a Monday in the past), and 20 a week after it that a
  forecast starting on START must not see; plus 12 open items (its backlog). At 5 a week on a Mon–Fri calendar a
  team finishes one item per working day, so N items are done on START's N-th working day, at every level.
- ``stopped``: 5 a week for 40 weeks that end 10 weeks before START (a stale history).
- ``new``: 5 a week for the 6 weeks before START (a short history: no calibration).
- ``varied``: 80 weeks of 2–9 items (fixed pseudo-random draws) before today; ``now``: 5 a week before today.
  Questions about them start next Monday (``by_date`` must be in the future).

The expected figures are computed here from the definitions (README "Forecasts"): working days counted on the
calendar, the history's mean pace and its extremes, percentiles by linear interpolation between ranks.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import numpy as np
import pytest
from mcp import Client

from engmetrics.config import Settings
from engmetrics.engine.local import LocalEngine
from engmetrics.server.app import build_server
from engmetrics.server.runtime import Runtime

START = date(2026, 6, 1)  # a Monday
HISTORY_WEEKS = 26  # the tools' default


@dataclass
class Store:
    """The work-item store and what it was built from."""

    db: Path
    today: date
    monday: date  # the first Monday after today: where questions about ``varied`` and ``now`` start
    varied: list[int]  # items per week, oldest first, ending at today's midnight


def _midnight(d: date) -> datetime:
    return datetime(d.year, d.month, d.day, tzinfo=UTC)


def _weeks_of_items(team: str, end: date, counts: list[int], prefix: str = "") -> list[str]:
    """CSV rows of ``team``: ``counts[i]`` items completed in the i-th of the 7-day weeks (oldest first) ending at
    ``end``'s midnight, on different days of the week, at noon or a little after."""
    rows = []
    for i, count in enumerate(counts):
        weeks_back = len(counts) - 1 - i
        for j in range(count):
            when = _midnight(end) - timedelta(days=7 * weeks_back + 1 + j % 5) + timedelta(hours=12 + j // 5)
            rows.append(f"{prefix}{team}-{i}-{j},{when.strftime('%Y-%m-%dT%H:%M:%SZ')},{team}")
    return rows


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    root = tmp_path_factory.mktemp("forecast_tools")
    today = datetime.now(UTC).date()
    monday = today + timedelta(days=7 - today.weekday())
    varied = [int(x) for x in np.random.default_rng(7).integers(2, 10, size=80)]
    rows = ["id,completed_at,team"]
    rows += _weeks_of_items("steady", START, [5] * 60)
    rows += _weeks_of_items("steady", START + timedelta(weeks=20), [20] * 20, prefix="later-")
    rows += [f"open-{i},,steady" for i in range(12)]
    rows += _weeks_of_items("stopped", START - timedelta(weeks=10), [5] * 40)
    rows += _weeks_of_items("new", START, [5] * 6)
    rows += _weeks_of_items("varied", today, varied)
    rows += _weeks_of_items("now", today, [5] * 60)
    items = root / "items.csv"
    items.write_text("\n".join(rows) + "\n")
    db = root / "engmetrics.db"
    engine = LocalEngine(Settings(db=db))
    report = anyio.run(engine.forecast.import_work_items, items)
    engine.store.close()
    assert report.errors == [] and report.open_items == 12
    return Store(db=db, today=today, monday=monday, varied=varied)


@asynccontextmanager
async def session(db: Path, mode: str = "auto") -> AsyncIterator[Client]:
    """A real MCP client session with a server over ``db``."""
    engine = LocalEngine(Settings(db=db, sync_max_age_seconds=3600))
    try:
        async with Client(build_server(Runtime(engine, sync_on_start=False)), mode=mode) as client:
            yield client
    finally:
        engine.store.close()


async def call(client: Client, tool: str, **args: Any) -> dict[str, Any]:
    result = await client.call_tool(tool, args)
    assert not result.is_error, result.content
    data = result.structured_content
    assert isinstance(data, dict)
    return data


# ---- the definitions, independently --------------------------------------------------------------------------


def nth_working_day(start: date, n: int, holidays: frozenset[date] = frozenset()) -> date:
    """The n-th (1-based) Monday–Friday on or after ``start`` that is not a holiday."""
    day, seen = start, 0
    while True:
        if day.weekday() < 5 and day not in holidays:
            seen += 1
            if seen == n:
                return day
        day += timedelta(days=1)


def working_days_through(start: date, end: date) -> int:
    """Mondays–Fridays from ``start`` to ``end``, both included."""
    return sum(1 for k in range((end - start).days + 1) if (start + timedelta(days=k)).weekday() < 5)


def percentile(values: list[int], p: float) -> float:
    """The ``p`` (0…1) percentile, linear between the closest ranks of the sorted values."""
    s = sorted(values)
    pos = p * (len(s) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (pos - lo) * (s[hi] - s[lo])


def assert_lands_on(day: str, weeks: float, start: date) -> None:
    """``day`` is the working day during which ``weeks`` (fractional, rounded to 0.01) of a Mon–Fri calendar
    starting on ``start`` end: working day n covers weeks (n − 1)/5 … n/5."""
    n = working_days_through(start, date.fromisoformat(day))
    assert date.fromisoformat(day).weekday() < 5
    assert n - 1 - 0.03 < 5 * weeks <= n + 0.03, (day, weeks, n)


# ---- forecast_delivery ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_delivery_dates_on_a_steady_history(store: Store, mode: str) -> None:
    async with session(store.db, mode) as client:
        d = await call(client, "forecast_delivery", items=20, team="steady", start_date=START.isoformat())
        holiday = date(2026, 6, 10)
        h = await call(client, "forecast_delivery", items=20, team="steady", start_date=START.isoformat(),
                       holidays=[holiday.isoformat()])
    # One item per working day: the 20th working day from Monday 1 June is Friday 26 June, at every level.
    assert nth_working_day(START, 20) == date(2026, 6, 26)
    assert d["p50"] == d["p85"] == d["p95"] == "2026-06-26"
    assert [p["weeks"] for p in d["forecasts"]] == [4.0, 4.0, 4.0]
    assert d["calibrated"] is True and d["warnings"] == []
    # Only the 26 weeks before the start date are sampled: 5 a week, none of the 20 a week after it.
    t = d["throughput"]
    assert (t["item_source"], t["weeks"], t["items"], t["mean_per_week"]) == ("work_items", 26, 130, 5.0)
    assert t["recent_weeks"] == [5] * 26 and t["window"]["to"] == "2026-06-01T00:00:00Z"
    # Forecasts from this history always came true, at 4 and 12 weeks, for both methods.
    rows = d["reliability"]["rows"]
    assert {(r["method"], r["horizon_weeks"]) for r in rows} == {("calibrated", 4), ("calibrated", 12), ("iid", 4),
                                                                 ("iid", 12)}
    assert all(lv["hit_percent"] == 100.0 for r in rows for lv in r["levels"])
    # A holiday on Wednesday 10 June: the 20th working day is one later, Monday 29 June (4.2 weeks: week 2 has 4
    # working days, so 4 items, and the 20th item falls on the first day of week 5).
    assert nth_working_day(START, 20, frozenset({holiday})) == date(2026, 6, 29)
    assert h["p50"] == h["p85"] == h["p95"] == "2026-06-29"
    assert [p["weeks"] for p in h["forecasts"]] == [4.2, 4.2, 4.2]


async def test_delivery_levels_on_a_varied_history(store: Store) -> None:
    start = store.monday
    by = start + timedelta(weeks=8) - timedelta(days=3)  # the Friday of the 8th week: 8.0 weeks of work
    async with session(store.db) as client:
        d = await call(client, "forecast_delivery", items=60, team="varied", start_date=start.isoformat())
        c = await call(client, "forecast_delivery", by_date=by.isoformat(), team="varied",
                       start_date=start.isoformat())
    window = store.varied[-HISTORY_WEEKS:]
    mean, fastest, slowest = sum(window) / len(window), max(window), min(window)
    assert d["throughput"]["recent_weeks"] == window
    assert d["throughput"]["mean_per_week"] == round(mean, 2)
    # Dates: strictly later at higher confidence (the history varies), between what the fastest and the slowest
    # week of the history would take, P50 near what the mean pace takes (60 / 5.6 ≈ 10.7 weeks).
    weeks = [p["weeks"] for p in d["forecasts"]]
    assert weeks[0] < weeks[1] < weeks[2]
    assert d["p50"] < d["p85"] < d["p95"]
    assert all(60 / fastest <= w <= 60 / slowest for w in weeks)
    assert abs(weeks[0] - 60 / mean) <= 0.1 * (60 / mean)
    for p in d["forecasts"]:
        assert_lands_on(p["date"], p["weeks"], start)
    assert d["calibrated"] is True and d["warnings"] == []
    # Item counts by a date: fewer at higher confidence, between 8 slowest and 8 fastest weeks, P50 near 8 × mean.
    assert [p["weeks"] for p in c["forecasts"]] == [8.0, 8.0, 8.0]
    counts = [p["items"] for p in c["forecasts"]]
    assert counts == [c["p50"], c["p85"], c["p95"]]
    assert counts[0] > counts[1] > counts[2]
    assert all(8 * slowest <= n <= 8 * fastest for n in counts)
    assert abs(counts[0] - 8 * mean) <= 0.1 * 8 * mean


async def test_delivery_items_by_a_date_on_a_steady_history(store: Store) -> None:
    start = store.monday
    by = start + timedelta(weeks=4) - timedelta(days=3)  # Friday of the 4th week
    async with session(store.db) as client:
        c = await call(client, "forecast_delivery", by_date=by.isoformat(), team="now", start_date=start.isoformat())
    # One item per working day: as many items as working days from the start through by_date.
    assert working_days_through(start, by) == 20
    assert c["p50"] == c["p85"] == c["p95"] == 20
    assert c["calibrated"] is True and c["warnings"] == []


async def test_delivery_warns_on_stale_and_short_histories(store: Store) -> None:
    async with session(store.db) as client:
        stale = await call(client, "forecast_delivery", items=10, team="stopped", start_date=START.isoformat())
        short = await call(client, "forecast_delivery", items=20, team="new", start_date=START.isoformat())
    # Stopped 10 weeks before the start (newest item: noon of Sunday 22 March): the 26 weeks sampled hold 16
    # weeks of 5 items, 80 / 26 = 3.1 a week.
    newest = START - timedelta(weeks=10) - timedelta(days=1)
    assert newest == date(2026, 3, 22)
    first = stale["warnings"][0]
    assert first.startswith(f"Stale history: no item was completed in the 10 weeks before {START.isoformat()} "
                            f"(the newest on {newest.isoformat()})")
    assert f"(16 with items, {80 / 26:.1f} a week on average)" in first
    assert f"set start_date to {(newest + timedelta(days=1)).isoformat()}" in first
    w = [p["weeks"] for p in stale["forecasts"]]
    assert w[0] <= w[1] <= w[2] and stale["p50"] <= stale["p85"] <= stale["p95"]
    # P85 more than three times as far off as P50: the very wide range is said.
    assert w[1] > 3 * w[0]
    assert any(x.startswith(f"Very wide range: P85 ({stale['p85']},") for x in stale["warnings"])
    # Six weeks of history: short, thin, uncalibrated — and still exact (5 a week, 20 items, Friday 26 June).
    assert short["calibrated"] is False and short["reliability"]["rows"] == []
    assert short["warnings"] == [
        f"Short history: items start only 6 weeks before {START.isoformat()}, fewer than the 26 weeks asked for; "
        "the forecast samples just those 6 weeks.",
        "Only 6 of the last 6 weeks completed any item: treat the forecast as rough.",
        "Not enough history to calibrate (needs about 30 weeks): the ranges are the raw bootstrap's and may be too "
        "narrow.",
    ]
    assert short["p50"] == short["p95"] == nth_working_day(START, 20).isoformat()


# ---- forecast_backlog ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_backlog_of_open_work_items_on_a_steady_history(store: Store, mode: str) -> None:
    async with session(store.db, mode) as client:
        imported = await call(client, "forecast_backlog", team="steady", start_date=START.isoformat())
        given = await call(client, "forecast_backlog", backlog_size=30, team="steady", start_date=START.isoformat())
    # The 12 open items: 12 working days at one a day, Tuesday 16 June; 12 / 5 = 2.4 weeks.
    assert (imported["backlog_size"], imported["backlog_source"]) == (12, "work_items")
    assert imported["weeks_to_empty"] == {"p50": 2.4, "p85": 2.4, "p95": 2.4}
    assert set(imported["empty_by"].values()) == {nth_working_day(START, 12).isoformat()} == {"2026-06-16"}
    assert imported["weekly_throughput_p50"] == imported["weekly_throughput_p85"] == 5.0
    assert imported["calibrated"] is True and imported["warnings"] == []
    # 30 items: six weeks, the Friday of the 6th week.
    assert (given["backlog_size"], given["backlog_source"]) == (30, "argument")
    assert given["weeks_to_empty"] == {"p50": 6.0, "p85": 6.0, "p95": 6.0}
    assert set(given["empty_by"].values()) == {nth_working_day(START, 30).isoformat()} == {"2026-07-10"}


async def test_backlog_levels_on_a_varied_history(store: Store) -> None:
    start = store.monday
    async with session(store.db) as client:
        b = await call(client, "forecast_backlog", backlog_size=60, team="varied", start_date=start.isoformat())
        d = await call(client, "forecast_delivery", items=60, team="varied", start_date=start.isoformat())
        stale = await call(client, "forecast_backlog", backlog_size=10, team="stopped", start_date=START.isoformat())
    window = store.varied[-HISTORY_WEEKS:]
    # Weekly throughput percentiles of the 26 weeks sampled, by hand.
    assert b["weekly_throughput_p50"] == round(percentile(window, 0.5), 2)
    assert b["weekly_throughput_p85"] == round(percentile(window, 0.85), 2)
    weeks = [b["weeks_to_empty"][k] for k in ("p50", "p85", "p95")]
    dates = [b["empty_by"][k] for k in ("p50", "p85", "p95")]
    assert weeks[0] < weeks[1] < weeks[2] and dates[0] < dates[1] < dates[2]
    assert all(60 / max(window) <= w <= 60 / min(window) for w in weeks)
    for day, w in zip(dates, weeks, strict=True):
        assert_lands_on(day, w, start)
    # Emptying a backlog of 60 is finishing 60 items: the same weeks and dates as forecast_delivery's.
    assert weeks == [p["weeks"] for p in d["forecasts"]]
    assert dates == [d["p50"], d["p85"], d["p95"]]
    assert b["warnings"] == []
    # A stale history is said here too.
    assert stale["warnings"][0].startswith("Stale history: no item was completed in the 10 weeks before")
    s = stale["weeks_to_empty"]
    assert s["p50"] <= s["p85"] <= s["p95"]
