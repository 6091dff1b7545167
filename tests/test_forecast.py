"""Forecast maths on plain data: known answers, determinism, zero weeks, and calibration that is measurable."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from engmetrics.areas.forecast.answers import ForecastHistory, backlog_forecast, backtest_report, delivery_forecast
from engmetrics.areas.forecast.metrics.backtest import pinball_loss, walk_forward, wilson_interval
from engmetrics.areas.forecast.metrics.simulate import completion_week, sample_indices, simulate_paths
from engmetrics.areas.forecast.models import BacklogForecastQuery, BacktestQuery, DeliveryForecastQuery
from engmetrics.areas.forecast.metrics.calendar import WorkCalendar
from engmetrics.areas.forecast.metrics.throughput import weekly_counts
from engmetrics.errors import InvalidInput
from engmetrics.queries import validate

MONDAY = date(2026, 3, 2)


def history(weekly, start=MONDAY) -> ForecastHistory:
    return ForecastHistory(weekly=np.asarray(weekly), source="prs", as_of=1_772_409_600, start=start, today=start)


def ar_history(n: int, seed: int, phi: float = 0.9) -> np.ndarray:
    """Poisson weekly counts around a slowly wandering (AR(1) in log) rate: runs of busy and quiet weeks."""
    rng = np.random.default_rng(seed)
    z, out = 0.0, np.zeros(n)
    for i in range(n):
        z = phi * z + rng.normal(0, 0.35)
        out[i] = rng.poisson(6 * np.exp(z))
    return out


def test_constant_throughput_gives_the_exact_answer_at_every_percentile() -> None:
    result = delivery_forecast(history(np.full(60, 5)), DeliveryForecastQuery(items=20))
    assert [p.weeks for p in result.forecasts] == [4.0, 4.0, 4.0]
    # Week 4 from Monday 2 March ends with its fifth working day, Friday 27 March.
    assert result.p50 == result.p85 == result.p95 == "2026-03-27"
    assert result.calibrated and result.simulations == 10_000
    by = delivery_forecast(history(np.full(60, 5)), DeliveryForecastQuery(by_date="2026-03-27"))
    assert by.p50 == by.p85 == by.p95 == 20


def test_same_seed_same_answer_and_p85_after_p50() -> None:
    weekly = ar_history(80, 3)
    a = delivery_forecast(history(weekly), DeliveryForecastQuery(items=40, seed=7))
    b = delivery_forecast(history(weekly), DeliveryForecastQuery(items=40, seed=7))
    assert a.model_dump() == b.model_dump()
    w = [p.weeks for p in a.forecasts]
    assert w[0] <= w[1] <= w[2]
    assert a.p50 <= a.p85 <= a.p95
    counts = delivery_forecast(history(weekly), DeliveryForecastQuery(by_date="2026-06-01")).forecasts
    assert counts[0].items >= counts[1].items >= counts[2].items


def test_zero_weeks_are_kept_and_slow_the_forecast() -> None:
    times = np.array([0, 3600, 14 * 86400 + 5])  # items in week 1 and week 3, none in week 2
    assert weekly_counts(times, as_of=21 * 86400, max_weeks=10).tolist() == [2, 0, 1]
    busy = delivery_forecast(history(np.full(30, 4)), DeliveryForecastQuery(items=40, calibrate=False))
    gappy = delivery_forecast(history(np.tile([8, 0], 15)), DeliveryForecastQuery(items=40, calibrate=False))
    assert gappy.forecasts[1].weeks >= busy.forecasts[1].weeks


def test_stationary_bootstrap_keeps_runs_of_weeks() -> None:
    idx = sample_indices(np.array([52]), 2000, 12, np.random.default_rng(0), "stationary", 4.0)[0]
    consecutive = np.mean((idx[:, 1:] - idx[:, :-1]) % 52 == 1)
    assert 0.7 < consecutive < 0.8  # a run continues with probability 1 - 1/4
    iid = sample_indices(np.array([52]), 2000, 12, np.random.default_rng(0), "iid")[0]
    assert np.mean((iid[:, 1:] - iid[:, :-1]) % 52 == 1) < 0.05


def test_holidays_push_dates_and_split_rate_adds_items() -> None:
    base = delivery_forecast(history(np.full(60, 5)), DeliveryForecastQuery(items=20))
    off = delivery_forecast(history(np.full(60, 5)), DeliveryForecastQuery(items=20, holidays=["2026-03-09", "2026-03-10"]))
    assert off.p50 > base.p50
    split = delivery_forecast(history(np.full(60, 5)), DeliveryForecastQuery(items=20, split_rate=0.25))
    assert split.forecasts[0].weeks == 5.0
    cal = WorkCalendar(MONDAY)
    assert cal.date_at(1.0) == date(2026, 3, 6) and cal.date_at(0.2) == MONDAY
    assert completion_week(np.array([5.0, 10, 15]), 10, growth_per_week=0) == 2.0
    assert completion_week(np.array([5.0, 10, 15]), 100) is None


def test_calibration_fixes_the_under_coverage_of_iid_sampling() -> None:
    """On an autocorrelated history, i.i.d. P85 comes true far less than 85%; the calibrated one close to 85%."""
    rows = walk_forward(ar_history(220, 0), window=26, horizons=[4, 12], confidences=np.array([0.5, 0.85, 0.95]),
                        runs=1000, rng=np.random.default_rng(1))
    p85 = {(r.method, r.horizon_weeks): r.levels[1].hit_percent for r in rows}
    for h in (4, 12):
        assert 78 <= p85[("calibrated", h)] <= 92, p85
        assert p85[("iid", h)] < 75, p85
        assert p85[("calibrated", h)] - p85[("iid", h)] >= 10, p85
    report = backtest_report(history(ar_history(120, 2)), BacktestQuery(horizons=[4], simulations=300))
    assert {r.method for r in report.rows} == {"calibrated", "bootstrap", "iid"}


def test_backlog_and_warnings() -> None:
    weekly = np.zeros(20)  # too short to calibrate
    weekly[-3:] = [3, 4, 5]
    result = backlog_forecast(history(weekly), BacklogForecastQuery(backlog_size=12))
    assert result.weeks_to_empty.p50 <= result.weeks_to_empty.p85 <= result.weeks_to_empty.p95
    assert any("weeks completed any item" in w for w in result.warnings)
    assert any("calibrate" in w for w in result.warnings) and not result.calibrated
    assert any("fewer than the 26" in w for w in result.warnings)
    with pytest.raises(InvalidInput, match="backlog_size is required"):
        backlog_forecast(history(weekly), BacklogForecastQuery())


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        ({"items": 0}, "positive"),
        ({"items": -3}, "positive"),
        ({}, "either items"),
        ({"items": 3, "by_date": "2030-01-01"}, "either items"),
        ({"items": 3, "confidence_levels": [100]}, "between 1 and 99"),
        ({"items": 3, "working_days": [7]}, "weekdays"),
    ],
)
def test_bad_questions_are_refused_with_the_fix(args, needle) -> None:
    with pytest.raises(InvalidInput, match=needle):
        validate(DeliveryForecastQuery, **args)


def test_dates_in_the_past_are_refused() -> None:
    with pytest.raises(InvalidInput, match="in the past"):
        delivery_forecast(history(np.full(30, 5)), DeliveryForecastQuery(by_date="2020-01-01"))
    with pytest.raises(InvalidInput, match="ISO date"):
        delivery_forecast(history(np.full(30, 5)), DeliveryForecastQuery(items=3, holidays=["next tuesday"]))


def test_scores_helpers() -> None:
    lo, hi = wilson_interval(85, 100)
    assert 0.76 < lo < 0.85 < hi < 0.91
    assert pinball_loss(np.array([10.0]), np.array([8.0]), 0.15) == pytest.approx(0.3)
    paths = simulate_paths(np.array([1, 2, 3]), 4, 50, np.random.default_rng(0), capacity=np.array([1, 0.5, 1, 0]))
    assert paths.shape == (50, 4) and (paths[:, 3] == 0).all()
