"""Forecast levels never cross, forecasts warn when their history or answer should not be trusted, and the
backtest looks back from an as-of date without seeing anything later.

The ordering property is checked on generated bursty histories (runs of busy and empty weeks), many of them
ending in a stale tail, at many start dates (each history cut at a random week and started up to ten weeks
later), for completion dates, item counts by a date and backlog weeks. The checks are written here from the
definitions (P50 ≤ P85 ≤ P95 for dates and weeks, the reverse for item counts) without calling the forecast
code's own helpers.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from engmetrics.areas.forecast.answers import ForecastHistory, backlog_forecast, delivery_forecast
from engmetrics.areas.forecast.metrics.backtest import walk_forward
from engmetrics.areas.forecast.metrics.calibration import ordered_levels
from engmetrics.areas.forecast.metrics.caveats import pace_weeks_warning, wide_items_warning, wide_weeks_warning
from engmetrics.areas.forecast.models import BacklogForecastQuery, DeliveryForecastQuery
from engmetrics.cli.main import main as cli_main

TODAY = date(2026, 3, 2)
AS_OF = int(datetime(2026, 3, 2, tzinfo=UTC).timestamp())


def history(weekly, start: date = TODAY, last_item: int | None = None) -> ForecastHistory:
    """A history ending at midnight of TODAY, as the engine builds it for a start on or after TODAY."""
    return ForecastHistory(weekly=np.asarray(weekly, dtype=np.float64), source="prs", as_of=AS_OF, start=start,
                           today=TODAY, last_item=last_item)


def bursty(seed: int, weeks: int, stale: int) -> np.ndarray:
    """Runs of busy weeks (Poisson around a rate drawn per run) and of empty weeks, then ``stale`` empty weeks."""
    rng = np.random.default_rng(seed)
    out: list[float] = []
    while len(out) < weeks:
        length = int(rng.geometric(1 / 5))
        rate = 0.0 if rng.random() < 0.35 else float(rng.lognormal(1.2, 0.9))
        out += rng.poisson(rate, length).tolist()
    w = np.array(out[:weeks] + [0] * stale, dtype=np.float64)
    w[0] = max(w[0], 1.0)  # a history starts with the week of its first item
    return w


def trailing_zeros(weekly: np.ndarray) -> int:
    n = 0
    for x in reversed(list(weekly)):
        if x > 0:
            break
        n += 1
    return n


def later_or_equal(values: list) -> bool:  # type: ignore[type-arg]
    """Non-decreasing, with None (beyond the horizon) after every number."""
    big = [math.inf if v is None else v for v in values]
    return all(a <= b for a, b in zip(big, big[1:], strict=False))


LEVELS = st.lists(st.integers(1, 99), min_size=2, max_size=5, unique=True).map(sorted)


# Each example runs three calibrated forecasts (about a second): no shrinking, the failing example is printed as found.
@settings(max_examples=20, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow],
          phases=[Phase.explicit, Phase.reuse, Phase.generate])
@given(
    seed=st.integers(0, 2**32 - 1),
    weeks=st.integers(24, 150),
    stale=st.sampled_from([0, 0, 3, 9, 14, 20]),
    weeks_back=st.integers(0, 40),
    start_after=st.integers(0, 70),
    items=st.integers(1, 80),
    by_days=st.integers(1, 250),
    levels=st.one_of(st.just([50, 85, 95]), LEVELS),
)
def test_levels_are_ordered_at_every_start_date(seed, weeks, stale, weeks_back, start_after, items, by_days,
                                                levels) -> None:
    full = bursty(seed, weeks, stale)
    weekly = full[: max(8, full.size - weeks_back)]  # the history as it stood weeks_back weeks earlier
    start = TODAY + timedelta(days=start_after)
    h = history(weekly, start)
    common = {"simulations": 500, "seed": seed % 1000}

    dates = delivery_forecast(h, DeliveryForecastQuery(items=items, confidence_levels=levels, **common))
    assert [p.confidence_percent for p in dates.forecasts] == levels
    assert later_or_equal([p.weeks for p in dates.forecasts])
    assert later_or_equal([p.date for p in dates.forecasts if p.date is not None])
    assert later_or_equal([None if p.date is None else date.fromisoformat(p.date).toordinal() for p in dates.forecasts])
    if dates.p50 and dates.p85 and dates.p95:
        assert dates.p50 <= dates.p85 <= dates.p95

    by = (start + timedelta(days=by_days)).isoformat()
    counts = delivery_forecast(h, DeliveryForecastQuery(by_date=by, confidence_levels=levels, **common))
    n = [p.items for p in counts.forecasts]
    assert all(a >= b for a, b in zip(n, n[1:], strict=False)), n  # more confidence, fewer items

    backlog = backlog_forecast(h, BacklogForecastQuery(backlog_size=items, **common))
    w, d = backlog.weeks_to_empty, backlog.empty_by
    assert later_or_equal([w.p50, w.p85, w.p95])
    assert later_or_equal([None if x is None else date.fromisoformat(x).toordinal() for x in (d.p50, d.p85, d.p95)])

    # The stale warning: exactly when the last 8 or more weeks before the as-of day completed nothing.
    stopped = trailing_zeros(weekly) >= 8
    # And for a start after today: when the newest item (here: the end of the last busy week) is 8+ weeks older.
    newest = TODAY - timedelta(days=7 * trailing_zeros(weekly))
    late = not stopped and start > TODAY and (start - newest).days >= 56
    for result in (dates, counts, backlog):
        assert any(x.startswith("Stale history:") for x in result.warnings) == stopped, result.warnings
        assert any(x.startswith("Stale history for this start:") for x in result.warnings) == late, result.warnings
    # The wide-range warning: exactly when P85 is more than three times as far off as P50.
    at = {p.confidence_percent: p.weeks for p in dates.forecasts}
    if 50 in at and 85 in at and at[50] is not None:
        wide = at[85] is None or at[85] > 3 * at[50]
        assert any(x.startswith("Very wide range") for x in dates.warnings) == wide, (at, dates.warnings)


def test_ordered_levels_lowers_the_more_confident_levels_only() -> None:
    # Rows: confidence 50, 85, 95; columns: week 1, week 2 (items done by then at that confidence).
    crossing = np.array([[10.0, 20.0], [12.0, 15.0], [11.0, 18.0]])
    assert ordered_levels(crossing).tolist() == [[10, 20], [10, 15], [10, 15]]
    fine = np.array([[9.0, 20.0], [7.0, 15.0], [5.0, 11.0]])
    assert ordered_levels(fine).tolist() == fine.tolist()


def test_backtest_scores_the_ordered_forecasts() -> None:
    """Ordered forecasts at every origin: a forecast that comes true at P50 comes true at P85 and P95 too, so the
    calibrated hit rates never fall as the confidence rises (independent per-level corrections broke this)."""
    for first, levels in ((2, [0.5, 0.85, 0.95]), (3, [0.8, 0.85, 0.9])):
        weekly = np.concatenate([bursty(s, 40, 0) for s in range(first, first + 4)])
        rows = walk_forward(weekly, window=26, horizons=[4, 12], confidences=np.array(levels), runs=400,
                            rng=np.random.default_rng(3), methods=("calibrated",))
        assert {r.horizon_weeks for r in rows} == {4, 12}
        for r in rows:
            hits = [lv.hit_percent for lv in r.levels]
            assert hits == sorted(hits), (levels, r.horizon_weeks, hits)


def test_a_stale_history_says_it_stopped_and_what_the_forecast_samples() -> None:
    weekly = [5] * 40 + [0] * 14
    newest = AS_OF - 14 * 7 * 86400 - 3 * 86400 + 3600  # 2025-11-21, 01:00 UTC
    result = delivery_forecast(history(weekly, last_item=newest), DeliveryForecastQuery(items=30))
    stale = [w for w in result.warnings if w.startswith("Stale history:")]
    assert len(stale) == 1
    text = stale[0]
    assert "no item was completed in the 14 weeks before 2026-03-02" in text
    assert "the newest on 2025-11-21" in text
    # What the forecast is based on: the 26 weeks before the as-of day, 12 of them with items, 60/26 a week.
    assert "samples the 26 weeks before 2026-03-02 (12 with items, 2.3 a week on average)" in text
    assert "set start_date to 2025-11-22" in text
    assert result.warnings[0] == text  # the first thing an agent reads
    # The same pace without the empty tail does not warn.
    active = delivery_forecast(history([5] * 54), DeliveryForecastQuery(items=30))
    assert not any("Stale" in w for w in active.warnings)
    # Seven empty weeks are a quiet spell, not a stop.
    quiet = delivery_forecast(history([5] * 47 + [0] * 7), DeliveryForecastQuery(items=30))
    assert not any("Stale" in w for w in quiet.warnings)


def test_a_start_far_after_the_newest_item_warns() -> None:
    yesterday = AS_OF - 86400 + 7200
    far = delivery_forecast(history([5] * 60, start=TODAY + timedelta(days=70), last_item=yesterday),
                            DeliveryForecastQuery(items=30))
    # 2026-05-11 − 2026-03-01 = 71 days: 10 whole weeks.
    assert any(w.startswith("Stale history for this start: start_date 2026-05-11 is 10 weeks after the newest "
                            "completed item (2026-03-01)") for w in far.warnings), far.warnings
    near = delivery_forecast(history([5] * 60, start=TODAY + timedelta(days=20), last_item=yesterday),
                             DeliveryForecastQuery(items=30))
    assert not any("Stale" in w for w in near.warnings)


def test_a_short_history_warns() -> None:
    result = delivery_forecast(history([4] * 12), DeliveryForecastQuery(items=20))
    assert ("Short history: items start only 12 weeks before 2026-03-02, fewer than the 26 weeks asked for; "
            "the forecast samples just those 12 weeks.") in result.warnings
    assert not result.calibrated and any("Not enough history to calibrate" in w for w in result.warnings)
    backlog = backlog_forecast(history([4] * 12), BacklogForecastQuery(backlog_size=20, history_weeks=10))
    assert not any("Short history" in w for w in backlog.warnings)  # 12 weeks cover the 10 asked for
    long = delivery_forecast(history([4] * 60), DeliveryForecastQuery(items=20))
    assert not any("Short history" in w for w in long.warnings)


def test_a_very_wide_range_warns() -> None:
    # One busy week in eight: by a date 13 weeks out, P50 and P85 are far apart.
    weekly = ([20] + [0] * 7) * 8
    counts = delivery_forecast(history(weekly), DeliveryForecastQuery(by_date="2026-06-01", simulations=2000))
    p50, p85 = counts.p50, counts.p85
    assert isinstance(p50, int) and isinstance(p85, int) and 3 * p85 < p50, (p50, p85)
    assert any(w.startswith(f"Very wide range: P85 promises {p85} items by 2026-06-01, under a third of P50's {p50}")
               for w in counts.warnings), counts.warnings
    steady = delivery_forecast(history([5] * 60), DeliveryForecastQuery(by_date="2026-06-01"))
    assert not any("wide" in w for w in steady.warnings)
    # The rule by hand: P85 more than three times as far off as P50, or beyond the horizon.
    assert wide_weeks_warning(10.0, 30.0, "2026-09-25") == []
    assert "P85 (2026-09-26, 30.1 weeks)" in wide_weeks_warning(10.0, 30.1, "2026-09-26")[0]
    assert "P85 (beyond 10 years)" in wide_weeks_warning(10.0, None, None)[0]
    assert wide_items_warning(30, 10, "2026-06-01") == [] and wide_items_warning(31, 10, "2026-06-01")


def test_a_forecast_far_from_the_history_pace_warns() -> None:
    # 30 items at 3 a week take 10 weeks at the mean pace: P50 beyond 30 weeks, or under 3⅓, is far from it.
    assert pace_weeks_warning(30, 3.0, 30.0) == [] and pace_weeks_warning(30, 3.0, 3.4) == []
    assert pace_weeks_warning(30, 3.0, 30.5)[0].startswith("Far slower than the history's pace: at its 3 items a "
                                                           "week, 30 items would take about 10.0 weeks, but P50 says 30.5 weeks.")
    assert pace_weeks_warning(30, 3.0, 3.2)[0].startswith("Far faster")
    assert "beyond 10 years" in pace_weeks_warning(30, 3.0, None)[0]


# ---- the backtest's as-of date, on a store the test builds ---------------------------------------------


def _items_file(path: Path, as_of: date, *, later: bool) -> Path:
    """60 weeks of exactly 3 work items a week before ``as_of`` (and, with ``later``, one a week after it)."""
    rows = ["id,completed_at"]
    for k in range(60):  # week k back from as_of holds the days 7k+1 … 7k+7 before it
        for i in range(3):
            rows.append(f"B{k}-{i},{(as_of - timedelta(days=7 * k + 1 + i)).isoformat()}T12:00:00Z")
    if later:
        for k in range(19):
            rows.append(f"A{k},{(as_of + timedelta(days=7 * k + 2)).isoformat()}T12:00:00Z")
    path.write_text("\n".join(rows) + "\n")
    return path


def _backtest(db: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> dict:
    assert cli_main(["forecast", "backtest", "--horizons", "4,12", "--simulations", "200", "--db", str(db),
                     "--json", *extra]) == 0
    return json.loads(capsys.readouterr().out)


def test_backtest_as_of_ignores_later_history(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    today = datetime.now(UTC).date()
    as_of = today - timedelta(weeks=20)
    db = tmp_path / "all.db"
    assert cli_main(["forecast", "import-items", str(_items_file(tmp_path / "all.csv", as_of, later=True)),
                     "--db", str(db), "--json"]) == 0
    capsys.readouterr()
    report = _backtest(db, capsys, "--as-of", as_of.isoformat())

    # By hand: 60 weeks of 3 items before as_of; the 19 items after it are not seen.
    assert report["as_of"] == as_of.isoformat()
    t = report["throughput"]
    assert (t["weeks"], t["items"], t["mean_per_week"]) == (60, 180, 3.0)
    assert t["window"]["to"] == f"{as_of.isoformat()}T00:00:00Z"
    # Origins: a forecast from week t needs 10 weeks behind it, 15 earlier outcomes known by t (t − h − 9 ≥ 15)
    # and its own outcome known before as_of (t + h ≤ 60): t = 28 … 56 at 4 weeks, t = 36 … 48 at 12 weeks.
    origins = {(r["method"], r["horizon_weeks"]): r["origins"] for r in report["rows"]}
    assert origins == {(m, h): n for m in ("calibrated", "bootstrap", "iid") for h, n in ((4, 29), (12, 13))}
    # Every week is 3 items, so every past forecast was exactly right: all levels came true, no loss.
    for r in report["rows"]:
        assert [lv["hit_percent"] for lv in r["levels"]] == [100.0, 100.0, 100.0]
        assert r["pinball_loss_items"] == 0.0

    # The same question on a store that never held the later items gives the same answer.
    only = tmp_path / "before.db"
    assert cli_main(["forecast", "import-items", str(_items_file(tmp_path / "before.csv", as_of, later=False)),
                     "--db", str(only), "--json"]) == 0
    capsys.readouterr()
    assert _backtest(only, capsys, "--as-of", as_of.isoformat()) == report
    # Without as_of, the later items (and the weeks since) are part of the backtest.
    now = _backtest(db, capsys)
    assert now["as_of"] == today.isoformat() and now["throughput"]["items"] == 199 and now["throughput"]["weeks"] == 80

    # A forecast started 10 weeks after the items stopped says so, naming the newest item's day.
    assert cli_main(["forecast", "delivery", "--items", "20", "--start", (as_of + timedelta(weeks=10)).isoformat(),
                     "--db", str(only), "--json"]) == 0
    stale = [w for w in json.loads(capsys.readouterr().out)["warnings"] if w.startswith("Stale history:")]
    assert len(stale) == 1 and f"in the 10 weeks before {(as_of + timedelta(weeks=10)).isoformat()}" in stale[0]
    assert f"the newest on {(as_of - timedelta(days=1)).isoformat()}" in stale[0]
    assert f"set start_date to {as_of.isoformat()}" in stale[0]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--as-of", "2999-01-01"], "in the future"),
        (["--as-of", "soon"], "--as-of"),
        (["--as-of", "2024-06-01", "--items-from", "work_items"], "No completed items"),
    ],
)
def test_backtest_as_of_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str],
                               needle: str) -> None:
    db = tmp_path / "x.db"
    assert cli_main(["forecast", "import-items", str(_items_file(tmp_path / "x.csv", date(2026, 1, 5), later=False)),
                     "--db", str(db)]) == 0
    capsys.readouterr()
    assert cli_main(["forecast", "backtest", "--db", str(db), *args]) == 2
    captured = capsys.readouterr()
    assert needle in captured.err and "Traceback" not in captured.err and captured.out == ""
